"""backprop-engine: see the chain rule, then run it fast.

``engine.Value`` is the scalar teaching graph (``engine.viz`` draws it); ``engine.tensor``
and friends are the PyTorch-style tensor API, so the lectures' code runs with
``import engine as torch``.
"""

from engine.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from engine.backends import Device, set_default_device
from engine.backends import device as _device_of
from engine.core.creation import (
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    LongTensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from engine.core.dtypes import DType, float32, float64, int64, uint8  # noqa: A004
from engine.core.dtypes import bool_ as bool
from engine.core.math_functions import (  # noqa: A004 - PyTorch's names shadow builtins here, as in torch
    acos,
    acosh,
    all,
    amax,
    amin,
    any,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    argmax,
    argmin,
    argsort,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    cos,
    cosh,
    cumprod,
    cumsum,
    erf,
    exp2,
    expm1,
    fix,
    floor,
    frac,
    lerp,
    log1p,
    log2,
    log10,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    reciprocal,
    round,
    rsqrt,
    sign,
    sin,
    sinh,
    sort,
    square,
    std,
    std_mean,
    sum,
    tan,
    topk,
    trunc,
    unique,
    var,
    var_mean,
)
from engine.core.random import initial_seed, manual_seed
from engine.core.serialization import load, save
from engine.core.shape_functions import (
    chunk,
    flip,
    fliplr,
    flipud,
    gather,
    index_select,
    masked_fill,
    moveaxis,
    movedim,
    narrow,
    repeat_interleave,
    roll,
    scatter,
    scatter_add,
    split,
    tile,
    unbind,
)
from engine.core.tensor import Size, Tensor, cat, matmul, maximum, minimum, stack, tensor, where
from engine.core.tensor_functions import (
    abs,  # noqa: A004
    add,
    allclose,
    equal,
    exp,
    flatten,
    isclose,
    log,
    log_softmax,
    mm,
    mul,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    squeeze,
    tanh,
    transpose,
    unsqueeze,
)
from engine.errors import (
    DeviceError,
    DivisionByZeroError,
    DomainError,
    DTypeError,
    EngineError,
    EngineTypeError,
    EngineValueError,
    GradError,
    MissingFileError,
    PathError,
    ShapeError,
)
from engine.scalar.value import Value

float = float32  # noqa: A001 - PyTorch's aliases: engine.float, engine.double, engine.long
double = float64
long = int64

__version__ = "0.1.0"


def device(name: str) -> Device:
    """``engine.device("cpu")``: a device object (resolved to the backend that runs it)."""
    from engine.backends import resolve_name

    return _device_of(resolve_name(name))


def is_tensor(obj: object) -> bool:
    return isinstance(obj, Tensor)


def numel(t: Tensor) -> int:
    return t.numel()


_LAZY = {  # submodules that pull in optional or heavier dependencies load on first use
    "viz": "engine.viz",
    "nn": "engine.nn",
    "optim": "engine.optim",
    "utils": "engine.utils",
    "datasets": "engine.datasets",
    "testing": "engine.testing",
    "cuda": "engine.cuda",
    "plots": "engine.apps.plots",  # `from engine import plots`, as the examples write it
    "scalar_nn": "engine.scalar.nn",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return importlib.import_module(_LAZY[name])
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
