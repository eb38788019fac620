/* optim_impl.h -- body of optim.c for one dtype (see tmpl_begin.h). */
#include "tmpl_begin.h"

KERNEL void FN(eng_sgd)(int64_t n, T *restrict p, const T *restrict g, T *restrict buf, T lr,
                 T momentum, T dampening, T weight_decay, int nesterov, int first)
{
    const T keep = 1 - dampening;
    ENG_PAR_FOR(n > ENG_PAR_MIN_ELEMS, i, n, {
        T d = g[i];
        if (weight_decay != 0)
            d = d + weight_decay * p[i];
        if (momentum != 0) {
            T bi = first ? d : momentum * buf[i] + keep * d;
            buf[i] = bi;
            d = nesterov ? d + momentum * bi : bi;
        }
        /* PyTorch's p.add_(d, alpha=-lr) rounds p - lr*d once; for float32 the product is
         * exact in double, so one rounding back matches it (and the numpy reference). */
        p[i] = (T)((double)p[i] - (double)lr * (double)d);
        });
}

KERNEL void FN(eng_adam)(int64_t n, T *restrict p, const T *restrict g, T *restrict m, T *restrict v,
                  T lr, T beta1, T beta2, T eps, T weight_decay, int64_t step)
{
    /* as torch.optim.Adam: step_size = lr / bc1, denom = sqrt(v)/sqrt(bc2) + eps */
    const double bc1 = 1.0 - pow((double)beta1, (double)step);
    const double bc2 = 1.0 - pow((double)beta2, (double)step);
    const T step_size = (T)(lr / bc1);
    const T bc2_sqrt = (T)sqrt(bc2);
    const T w1 = 1 - beta1, w2 = 1 - beta2;
    ENG_PAR_FOR(n > ENG_PAR_MIN_ELEMS, i, n, {
        T d = g[i];
        if (weight_decay != 0)
            d = d + weight_decay * p[i];
        T mi = m[i] + w1 * (d - m[i]);              /* lerp(m, d, 1 - beta1) */
        T vi = beta2 * v[i] + w2 * d * d;
        m[i] = mi;
        v[i] = vi;
        T denom = LM(sqrt)(vi) / bc2_sqrt + eps;
        p[i] = p[i] - step_size * (mi / denom);
        });
}

#include "tmpl_end.h"
