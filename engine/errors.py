"""The engine's error family.

Every user mistake raises a subclass of :class:`EngineError` that also derives from the
matching builtin, so ``except ValueError`` keeps working for code written against PyTorch
or plain Python. Messages are one line: the op, what was given, what would be valid.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class DomainError(EngineError, ValueError):
    """A math op got a value outside its domain (``log(-1)``, ``(-8) ** 0.5``)."""


class DivisionByZeroError(DomainError, ZeroDivisionError):
    """Division (or a negative power) of zero."""


class ShapeError(EngineError, ValueError):
    """Shapes that do not fit the op (matmul inner sizes, broadcasting, view)."""


class DTypeError(EngineError, TypeError):
    """A dtype the op does not accept, or two dtypes that may not be mixed."""


class DeviceError(EngineError, ValueError):
    """Operands on different devices, or a device that is not available."""


class EngineTypeError(EngineError, TypeError):
    """An argument of the wrong Python type (a string where a number belongs)."""


class EngineValueError(EngineError, ValueError):
    """An argument of the right type with a value the op cannot use."""


class GradError(EngineError, RuntimeError):
    """Autograd misuse: backward on a non-scalar, in-place change of a leaf that needs grad."""


class PathError(EngineError, OSError):
    """A path that cannot be used: a folder where a file belongs (or the reverse), not writable."""


class MissingFileError(PathError, FileNotFoundError):
    """``load`` was given a path where no file exists."""


class ExpressionError(EngineError, ValueError):
    """An expression given to ``python -m engine graph`` that the safe parser refuses."""
