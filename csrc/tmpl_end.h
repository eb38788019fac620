/* see tmpl_begin.h */
#undef T
#undef FN
#undef PUB
#undef KERNEL
#undef LM
#undef VMATH
#undef T_IS_F32
#undef ENG_DTYPE
