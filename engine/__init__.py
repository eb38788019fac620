"""backprop-engine: see the chain rule, then run it fast.

``engine.Value`` is the scalar teaching graph; ``engine.viz`` draws it.
"""

from engine.errors import (
    DeviceError,
    DivisionByZeroError,
    DomainError,
    DTypeError,
    EngineError,
    EngineTypeError,
    EngineValueError,
    GradError,
    ShapeError,
)
from engine.value import Value

__version__ = "0.1.0"

__all__ = [
    "DTypeError",
    "DeviceError",
    "DivisionByZeroError",
    "DomainError",
    "EngineError",
    "EngineTypeError",
    "EngineValueError",
    "GradError",
    "ShapeError",
    "Value",
]


def __getattr__(name: str):
    # `engine.viz` imports graphviz; load it only when asked for.
    if name == "viz":
        import importlib

        return importlib.import_module("engine.viz")
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
