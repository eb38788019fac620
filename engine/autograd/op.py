"""``Op``: one differentiable op, its forward and its backward, in one place.

An ``Op`` subclass (in ``engine.ops``) writes ``forward(ctx, *arrays)`` and
``backward(ctx, grad)`` against the backend primitives (``ctx.backend``), so the same
calculus runs on every device. ``apply`` unwraps tensors into backend arrays, runs forward,
wraps the result in a tensor and, when any input requires grad, makes the call a node of the
graph: the ``ctx`` object *is* the node (it keeps the inputs and whatever forward saved).

Tensors are known here only through ``TensorBase``, the little autograd needs of them; the
tensor class itself lives a layer up (``engine.core``) and subclasses it.
"""

from __future__ import annotations

import threading
from typing import Any

from engine.errors import DeviceError


class _GradMode(threading.local):
    """Whether ops record the graph (``engine.no_grad()`` turns it off), per thread: each
    thread starts with recording on, as in PyTorch."""

    enabled = True


GradMode = _GradMode()


class TensorBase:
    """What autograd needs of a tensor. ``engine.core.tensor.Tensor`` subclasses it.

    Attributes (slots of the subclass): ``_data`` (the backend array), ``_backend``,
    ``_device``, ``requires_grad``, ``grad_fn`` (the ``Op`` node that made it, or None),
    ``_version_box`` (the in-place version counter of its memory, a one-item list shared by
    views). Methods: ``_like`` (a new plain tensor around an array, on this tensor's device),
    ``_accumulate_grad``.
    """

    __slots__ = ()

    _data: Any
    _backend: Any
    _device: Any
    requires_grad: bool
    grad_fn: Any
    _version_box: list

    def _like(self, data, requires_grad: bool = False):
        raise NotImplementedError

    def _accumulate_grad(self, g, owned: bool = False) -> None:
        raise NotImplementedError


class Op:
    """Base class of differentiable ops. Subclasses define ``forward`` and ``backward``.

    ``forward(ctx, *args, **kwargs)`` gets backend arrays where the caller passed tensors and
    returns the output array. ``backward(ctx, grad)`` returns one gradient array (or None) per
    positional argument of ``forward``; a gradient may have the broadcast shape the op computed
    in: the backward driver fits it to the input's shape (``engine.autograd.backward``).
    """

    # Set on the ctx during apply: the backend, the positional inputs (only when the graph is
    # recorded), which of them need a gradient, and the output tensor when retain_grad() asked.
    backend: Any
    inputs: tuple
    needs_input_grad: tuple
    parents: list
    input_nodes: list
    retained: Any = None

    # What backward reads, so that changing it in place before backward is caught (the
    # version check): the positions of the inputs whose values backward uses (None: all
    # tensor inputs) and whether it uses the output. Add's backward reads neither.
    saved_inputs: tuple | None = None
    saves_output: bool = False
    # Finer than saved_inputs for ops whose backward reads an input only for another's gradient
    # (a * b reads b for da, a for db): read_when[i] lists the inputs whose need makes input i read.
    read_when: tuple | None = None
    # (version box, version at forward) of each tensor backward reads, per node.
    saved_versions: tuple = ()
    # A view op's output that is a view (the backend says) shares its input's memory, so it
    # shares the input's version counter too: an in-place change through either is seen by both.
    view: bool = False

    @staticmethod
    def forward(ctx: Op, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Op, grad: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any):
        ctx = object.__new__(cls)  # (Op subclasses define no __new__)
        first = None
        requires = False
        arrays = []
        needs = []
        parents = []
        input_nodes = []  # each input's node *now*: an input changed in place later gets a new one
        # One pass over the arguments collects everything apply needs: this runs for every
        # op, so it is written for speed (a train step of a small MLP is mostly this).
        for a in args:
            if isinstance(a, TensorBase):
                if first is None:
                    first = a
                elif a._backend is not first._backend:
                    raise DeviceError(
                        f"{cls.op_name()}: tensors on different devices ({first.device} and {a.device}); "
                        "move them to one device with .to(device)"
                    )
                arrays.append(a._data)
                if a.requires_grad:
                    requires = True
                    needs.append(True)
                    made_by = a.grad_fn
                    input_nodes.append(made_by)
                    if made_by is not None:
                        parents.append(made_by)
                else:
                    needs.append(False)
                    input_nodes.append(None)
            else:
                arrays.append(a)
                needs.append(False)
                input_nodes.append(None)
        backend = first._backend
        ctx.backend = backend
        out = cls.forward(ctx, *arrays, **kwargs)
        result = first._like(out)
        if cls.view and backend.is_view(out):
            result._version_box = first._version_box
            if requires and GradMode.enabled and len(first._version_box) == 1:
                # A view inside a graph: an in-place change of this memory can't be recorded (the
                # other view's history would miss it), so the box is marked and such a change refused.
                first._version_box.append(True)
        if requires and GradMode.enabled:
            result.requires_grad = True
            ctx.inputs = args
            ctx.needs_input_grad = needs
            # The nodes that made the inputs: the edges backward's topological order walks.
            ctx.parents = parents
            ctx.input_nodes = input_nodes
            result.grad_fn = ctx
            # The versions of what backward will read, as they are now (written out: every op runs this).
            positions = cls.saved_inputs
            saved = []
            if cls.read_when is not None:
                positions = [i for i, triggers in enumerate(cls.read_when) if any(needs[t] for t in triggers)]
            if positions is None:
                for a in args:
                    if isinstance(a, TensorBase):
                        box = a._version_box
                        saved.append((box, box[0]))
            else:
                for i in positions:
                    a = args[i]
                    if isinstance(a, TensorBase):
                        box = a._version_box
                        saved.append((box, box[0]))
            if cls.saves_output:
                box = result._version_box
                saved.append((box, box[0]))
            ctx.saved_versions = saved
        return result

    @classmethod
    def op_name(cls) -> str:
        return cls.__name__.lower()

    def name(self) -> str:
        """PyTorch's spelling of the node, e.g. ``AddBackward0``."""
        return f"{type(self).__name__}Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()}>"
