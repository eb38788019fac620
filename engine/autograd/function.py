"""``engine.autograd.Function``: an op written by the user, as PyTorch users write one.

    class MyReLU(engine.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * (x > 0)

    y = MyReLU.apply(x)

``forward`` gets tensors (and any other arguments as given) and runs with recording off: its
own ops are not part of the graph. ``apply`` makes one graph node whose backward calls the
user's ``backward`` with the output's gradient as a tensor; it must return one gradient (or
None) per argument of ``forward``. Tensors saved with ``ctx.save_for_backward`` are version
checked like the engine's own ops: changed in place before backward, they raise.
"""

from __future__ import annotations

from typing import Any

from engine.autograd.grad_mode import no_grad
from engine.autograd.op import GradMode, Op, TensorBase
from engine.errors import EngineTypeError, GradError, ShapeError


class FunctionCtx:
    """What ``forward`` and ``backward`` share: saved tensors, which inputs need a gradient, and
    any attribute the user sets (``ctx.alpha = 0.1``)."""

    def __init__(self) -> None:
        self.saved = ()
        self.needs_input_grad: tuple = ()

    def save_for_backward(self, *tensors: Any) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, TensorBase):
                raise EngineTypeError(
                    f"save_for_backward: only tensors (or None) can be saved, got {type(t).__name__}; "
                    "keep other values as attributes of ctx"
                )
        self.saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        return self.saved

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Accepted for PyTorch compatibility; the engine's custom functions have one output."""

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch compatibility: gradients given to backward are always tensors."""


class _CustomOp(Op):
    """The graph node of one ``Function.apply`` call."""

    user: type
    ctx: FunctionCtx
    template: Any

    def name(self) -> str:
        return f"{self.user.__name__}Backward"

    @staticmethod
    def backward(node: _CustomOp, grad):
        with no_grad():
            grads = node.user.backward(node.ctx, node.template._like(grad))
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(node.inputs):
            raise GradError(
                f"{node.user.__name__}.backward returned {len(grads)} gradient(s) but forward took "
                f"{len(node.inputs)} argument(s); return one per argument (None where there is none)"
            )
        arrays = []
        for i, (g, x) in enumerate(zip(grads, node.inputs)):
            if g is None or not isinstance(x, TensorBase):
                arrays.append(None)
                continue
            if not isinstance(g, TensorBase):
                raise EngineTypeError(
                    f"{node.user.__name__}.backward: gradient {i} is a {type(g).__name__}, expected a tensor or None"
                )
            if tuple(g.shape) != tuple(x.shape):
                raise ShapeError(
                    f"{node.user.__name__}.backward: gradient {i} has shape {tuple(g.shape)} but input {i} has shape "
                    f"{tuple(x.shape)}"
                )
            arrays.append(g._data)
        return tuple(arrays)


class Function:
    """Base class of user-written differentiable ops: static ``forward(ctx, *args)`` and
    ``backward(ctx, *grad_outputs)``, called through ``apply`` (see the module docstring)."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError("write forward(ctx, *inputs) as a @staticmethod of your Function")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError("write backward(ctx, grad_output) as a @staticmethod of your Function")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any):
        tensors = [a for a in args if isinstance(a, TensorBase)]
        if not tensors:
            raise EngineTypeError(f"{cls.__name__}.apply: give at least one tensor argument")
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, TensorBase) and a.requires_grad for a in args)
        with no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        if not isinstance(out, TensorBase):
            raise EngineTypeError(
                f"{cls.__name__}.forward must return one tensor, got {type(out).__name__}"
            )
        # A fresh tensor object for the output (forward may return an input, or a view of one).
        result = out._like(out._data)
        result._version_box = out._version_box
        if any(ctx.needs_input_grad) and GradMode.enabled:
            node = _CustomOp.__new__(_CustomOp)
            node.user, node.ctx, node.template = cls, ctx, result
            node.backend = result._backend
            node.inputs = args
            node.needs_input_grad = ctx.needs_input_grad
            node.input_nodes = [a.grad_fn if isinstance(a, TensorBase) and a.requires_grad else None for a in args]
            node.parents = [n for n in node.input_nodes if n is not None]
            node.saved_versions = [(t._version_box, t._version_box[0]) for t in ctx.saved if t is not None]
            result.requires_grad = True
            result.grad_fn = node
        return result
