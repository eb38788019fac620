"""``no_grad``, ``enable_grad``, ``set_grad_enabled``: turn graph recording off and on."""

from __future__ import annotations

import functools

from engine.function import GradMode


class _GradSwitch:
    """A context manager and decorator that sets grad mode and restores it on exit."""

    enabled = True

    def __enter__(self):
        self._previous = GradMode.enabled
        GradMode.enabled = self.enabled
        return self

    def __exit__(self, *exc) -> None:
        GradMode.enabled = self._previous

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradSwitch):  # noqa: N801 - PyTorch's name
    """Ops inside ``with engine.no_grad():`` record no graph (for updates and evaluation)."""

    enabled = False


class enable_grad(_GradSwitch):  # noqa: N801
    """Turn recording back on inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradSwitch):  # noqa: N801
    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)
        GradMode.enabled = self.enabled  # as in PyTorch it also works as a plain call


def is_grad_enabled() -> bool:
    return GradMode.enabled
