"""``no_grad``, ``enable_grad``, ``set_grad_enabled``: turn graph recording off and on.

Grad mode belongs to the thread (as in PyTorch): a ``no_grad()`` block in one thread,
an evaluation loop say, never stops another thread's training step from recording.
"""

from __future__ import annotations

import functools

from engine.autograd.op import GradMode


class _GradSwitch:
    """A context manager and decorator that sets grad mode and restores it on exit.

    The previous modes are kept on a stack, so one object may be entered again while it
    is already active (nested ``with`` blocks, a decorated recursive function).
    """

    enabled = True

    def __enter__(self):
        self.__dict__.setdefault("_previous", []).append(GradMode.enabled)
        GradMode.enabled = self.enabled
        return self

    def __exit__(self, *exc) -> None:
        GradMode.enabled = self._previous.pop()

    def _fresh(self) -> _GradSwitch:
        return type(self)()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradSwitch):  # noqa: N801 - PyTorch's name
    """Ops inside ``with engine.no_grad():`` record no graph (for updates and evaluation)."""

    enabled = False


class enable_grad(_GradSwitch):  # noqa: N801
    """Turn recording back on inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradSwitch):  # noqa: N801
    """``set_grad_enabled(mode)``: as a plain call it sets the mode now; as a ``with`` block or
    decorator it sets it for the block and then restores the mode from before the call."""

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)
        # As in PyTorch the call itself switches, so the first ``with`` must restore the
        # mode from before the call, not the one the call just set.
        self._before_call = GradMode.enabled
        GradMode.enabled = self.enabled

    def __enter__(self):
        before, self._before_call = self._before_call, None
        self.__dict__.setdefault("_previous", []).append(GradMode.enabled if before is None else before)
        GradMode.enabled = self.enabled
        return self

    def __call__(self, fn):
        # Decorating must not leave the mode switched: only the calls of fn switch it.
        if self._before_call is not None:
            GradMode.enabled, self._before_call = self._before_call, None
        return super().__call__(fn)

    def _fresh(self) -> _GradSwitch:
        switch = object.__new__(type(self))
        switch.enabled, switch._before_call = self.enabled, None
        return switch


def is_grad_enabled() -> bool:
    return GradMode.enabled
