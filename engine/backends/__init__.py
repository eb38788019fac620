"""Devices are backends: ``"numpy"`` (the reference), ``"c"`` (csrc/ via cffi), ``"cuda"``.

``"cpu"`` means the best CPU backend present: ``"c"`` when the C library is built, else
``"numpy"``. Backends load on first use, so ``import engine`` stays light.
"""

from __future__ import annotations

from functools import cache

from engine.errors import DeviceError

DEVICES = ("numpy", "c", "cuda")


class Device:
    """A device name with PyTorch's ``device.type`` spelling; compares equal to its string."""

    __slots__ = ("type",)

    def __init__(self, name: str) -> None:
        self.type = name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Device):
            return self.type == other.type
        if isinstance(other, str):
            return self.type == resolve_name(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"

    def __str__(self) -> str:
        return self.type


def c_available() -> tuple[bool, str]:
    """Whether the C library can be loaded, and if not, one line saying why."""
    try:
        from engine.backends import c_backend  # noqa: F401
    except ImportError as exc:
        return False, str(exc)
    return True, ""


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
        return "c" if c_available()[0] else "numpy"
    if base not in DEVICES:
        raise DeviceError(f"device: unknown device {name!r}; valid devices are 'cpu', {', '.join(map(repr, DEVICES))}")
    return base


@cache
def device(name: str) -> Device:
    return Device(name)


@cache
def get_backend(name: str):
    """The backend object running device ``name`` (already resolved)."""
    if name == "numpy":
        from engine.backends.numpy_backend import NumpyBackend

        return NumpyBackend()
    if name == "c":
        try:
            from engine.backends.c_backend import CBackend
        except ImportError as exc:
            raise DeviceError(f"device 'c' is unavailable: {exc}") from None
        return CBackend()
    if name == "cuda":
        raise DeviceError("device 'cuda' is unavailable: the CUDA backend is not part of this build yet")
    raise DeviceError(f"device: unknown device {name!r}")


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
