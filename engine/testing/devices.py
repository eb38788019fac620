"""Which engine devices run here: the list the checks, the ``device`` fixture and ``python -m engine check`` cover."""

from __future__ import annotations

import os

__all__ = ["available_devices", "check_devices"]


def available_devices() -> list[str]:
    """The devices a check should cover here: ``numpy`` always, ``c`` when the C library loads,
    ``cuda`` when a real GPU is present (numba's simulator is too slow to be a default: name
    ``cuda`` explicitly to use it)."""
    from engine.backends import c_available

    names = ["numpy"]
    if c_available()[0]:
        names.append("c")
    if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        import engine.cuda

        if engine.cuda.is_available():
            names.append("cuda")
    return names


def check_devices(devices: object, where: str) -> list[str]:
    """``devices`` as a list of known device names (None: :func:`available_devices`), or a one-line error."""
    from engine.backends import get_backend, resolve_name
    from engine.errors import DeviceError, EngineTypeError, EngineValueError

    if devices is None:
        return available_devices()
    if isinstance(devices, str):
        devices = [d.strip() for d in devices.split(",") if d.strip()]
    try:
        names = [str(d) for d in devices]  # type: ignore[union-attr]
    except TypeError:
        raise EngineTypeError(
            f"{where}: devices must be a list of device names, got {type(devices).__name__}"
        ) from None
    if not names:
        raise EngineValueError(f"{where}: no device named; give at least one of {', '.join(available_devices())}")
    resolved = []
    try:
        for name in names:
            resolved.append(resolve_name(name))  # the device's own one-line error: unknown, c not built...
            get_backend(resolved[-1])  # ...or unavailable here (no GPU)
    except DeviceError as e:
        raise DeviceError(f"{where}: {e}") from None
    return resolved
