"""Devices are backends: ``"numpy"`` (the reference), ``"c"`` (csrc/ via cffi), ``"cuda"``.

``"cpu"`` means the best CPU backend present: ``"c"`` when the C library is built, else
``"numpy"``. ``REGISTRY`` maps each device name to the module and class that run it; a
backend loads on first use, so ``import engine`` stays light. ``register_backend`` adds one
(the tests register a test-only backend this way).
"""

from __future__ import annotations

import importlib
from functools import cache

from engine.errors import DeviceError

REGISTRY: dict[str, str] = {
    "numpy": "engine.backends.numpy_backend:NumpyBackend",
    "c": "engine.backends.c_backend:CBackend",
    "cuda": "engine.backends.cuda_backend:CudaBackend",
}
_UNAVAILABLE: dict[str, str] = {}
DEVICES = ("numpy", "c", "cuda")


def register_backend(name: str, target: str) -> None:
    """Make device ``name`` run on the backend class ``target`` ("package.module:Class")."""
    REGISTRY[name] = target
    _UNAVAILABLE.pop(name, None)
    get_backend.cache_clear()


class Device:
    """A device name with PyTorch's ``device.type`` spelling; compares equal to its string.

    ``index`` is 0 for ``cuda`` (one GPU: ``cuda:0``, as PyTorch prints it) and None otherwise.
    """

    __slots__ = ("type", "index")

    def __init__(self, name: str) -> None:
        self.type = name
        self.index = 0 if name == "cuda" else None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Device):
            return self.type == other.type
        if isinstance(other, str):
            return self.type == resolve_name(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        if self.index is not None:
            return f"device(type='{self.type}', index={self.index})"
        return f"device(type='{self.type}')"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


def c_available() -> tuple[bool, str]:
    """Whether the C library can be loaded, and if not, one line saying why."""
    try:
        from engine.backends import c_backend
    except ImportError as exc:
        return False, str(exc)
    why = c_backend.isa_error()
    return (False, why) if why else (True, "")


def resolve_name(name: object) -> str:
    """Map a user's device spelling to one of DEVICES (``"cpu"`` picks the best CPU backend)."""
    if isinstance(name, Device):
        return name.type
    if not isinstance(name, str):
        raise DeviceError(f"device: expected a name such as 'numpy', 'c', 'cuda' or 'cpu', got {name!r}")
    base, colon, index = name.partition(":")
    if colon and not (index.isascii() and index.isdigit()):
        raise DeviceError(
            f"device: invalid device string {name!r}; a device index must be a non-negative integer ('cpu:0')"
        )
    if base == "cpu":
        ok, why = c_available()
        if not ok and why.startswith("ENGINE_ISA"):  # a kernel set asked for by name is never silently dropped
            raise DeviceError(f"device 'cpu': {why}")
        return "c" if ok else "numpy"
    if base not in REGISTRY and base not in _UNAVAILABLE:
        known = ", ".join(map(repr, [*REGISTRY, *_UNAVAILABLE]))
        raise DeviceError(f"device: unknown device {name!r}; valid devices are 'cpu', {known}")
    return base


@cache
def device(name: str) -> Device:
    return Device(name)


@cache
def get_backend(name: str):
    """The backend object running device ``name`` (already resolved), made once."""
    if name in _UNAVAILABLE:
        raise DeviceError(f"device {name!r} is unavailable: {_UNAVAILABLE[name]}")
    if name not in REGISTRY:
        raise DeviceError(f"device: unknown device {name!r}")
    module_name, _, class_name = REGISTRY[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DeviceError(f"device {name!r} is unavailable: {exc}") from None
    backend = getattr(module, class_name)()
    backend.name = name
    return backend


_default = {"name": None}


def default_device_name() -> str:
    """Where new tensors go when no device is given: ``set_default_device``, else ``"cpu"``
    (the C library when it is built, as PyTorch's default is its CPU device).

    ``ENGINE_DEFAULT_DEVICE`` (e.g. ``numpy``) overrides it for a whole process.
    """
    if _default["name"] is None:
        import os

        _default["name"] = resolve_name(os.environ.get("ENGINE_DEFAULT_DEVICE", "cpu"))
    return _default["name"]


def set_default_device(name: str) -> None:
    """Make ``name`` (``"numpy"``, ``"c"``, ``"cpu"``...) the device of new tensors."""
    resolved = resolve_name(name)
    get_backend(resolved)  # fail now, with the reason, if it is unavailable
    _default["name"] = resolved
