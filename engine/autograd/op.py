"""``Function``: one differentiable op, its forward and its backward, in one place.

A Function subclass writes ``forward(ctx, *arrays)`` and ``backward(ctx, grad)`` against
the backend primitive set (``ctx.backend``), so the same calculus runs on every device.
``apply`` wraps arrays into tensors and, when any input requires grad, makes the call a
node of the graph: the ``ctx`` object *is* the node (it keeps the inputs and whatever
forward saved on it).

``run_backward`` is the driver: an iterative topological order over the nodes (shared
with ``Value``), then one pass from the output down, summing gradients per node.
"""

from __future__ import annotations

import threading
from operator import attrgetter
from typing import Any

from engine.autograd.graph import topological_order
from engine.errors import DeviceError, GradError


class _GradMode(threading.local):
    """Whether ops record the graph (``engine.no_grad()`` turns it off), per thread: each
    thread starts with recording on, as in PyTorch."""

    enabled = True


GradMode = _GradMode()


class Function:
    """Base class of differentiable ops. Subclasses define ``forward`` and ``backward``.

    ``forward(ctx, *args, **kwargs)`` gets arrays where the caller passed tensors and
    returns the output array. ``backward(ctx, grad)`` returns one gradient array (or None)
    per positional argument of ``forward``.
    """

    # Set on the ctx during apply: the backend, the positional inputs (only when the
    # graph is recorded), which of them need a gradient, and the output tensor when
    # retain_grad() asked for it.
    backend: Any
    inputs: tuple
    needs_input_grad: tuple
    retained: Any = None

    # What backward reads, so that changing it in place before backward is caught (the
    # version check): the positions of the inputs whose values backward uses (None: all
    # tensor inputs) and whether it uses the output. Add's backward reads neither.
    saved_inputs: tuple | None = None
    saves_output: bool = False
    # (version box, version at forward) of each tensor backward reads, per node.
    saved_versions: tuple = ()
    # A view op's output shares its input's memory when the backend says so; it then shares
    # the input's version counter too, so an in-place change through either is seen by both.
    view: bool = False

    @staticmethod
    def forward(ctx: Function, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Function, grad: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any):
        ctx = cls.__new__(cls)
        first = None
        requires = False
        arrays = []
        needs = []
        parents = []
        # One pass over the arguments collects everything apply needs: this runs for every
        # op, so it is written for speed (a train step of a small MLP is mostly this).
        for a in args:
            if isinstance(a, _Tensor):
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
                    if a.grad_fn is not None:
                        parents.append(a.grad_fn)
                else:
                    needs.append(False)
            else:
                arrays.append(a)
                needs.append(False)
        backend = first._backend
        ctx.backend = backend
        out = cls.forward(ctx, *arrays, **kwargs)
        result = _Tensor._make(out, first._device, backend, False)
        if cls.view and backend.shares_memory(out, first._data):
            result._version_box = first._version_box
        if requires and GradMode.enabled:
            result.requires_grad = True
            ctx.inputs = args
            ctx.needs_input_grad = needs
            # The nodes that made the inputs: the edges backward's topological order walks.
            ctx.parents = parents
            result.grad_fn = ctx
            # The versions of what backward will read, as they are now (written out: every op runs this).
            positions = cls.saved_inputs
            saved = []
            if positions is None:
                for a in args:
                    if isinstance(a, _Tensor):
                        box = a._version_box
                        saved.append((box, box[0]))
            else:
                for i in positions:
                    a = args[i]
                    if isinstance(a, _Tensor):
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


def _version_error(node, box: list, version: int, grad) -> GradError:
    """The error for a tensor that ``node.backward`` reads and that changed in place after forward."""
    for position, t in enumerate(node.inputs):
        if isinstance(t, _Tensor) and t._version_box is box:
            what = f"{t.dtype.name} tensor of shape {tuple(t.shape)}, which is input {position}"
            break
    else:
        what = f"{grad.dtype} tensor of shape {tuple(grad.shape)}, which is the output"
    return GradError(
        "backward: one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: a {what} of {node.name()}, is at version {box[0]}; expected version {version} instead. "
        "Change it after backward(), or change a .clone() of it"
    )


_parent_nodes = attrgetter("parents")


def run_backward(root, gradient) -> None:
    """Backpropagate ``gradient`` (an array shaped like ``root``) to every leaf below ``root``.

    Gradients arriving at a node from several consumers are summed before the node runs;
    leaves *add* into ``.grad`` (as in PyTorch). The graph is kept, so backward may be
    called again (it adds again).
    """
    fn = root.grad_fn
    if fn is None:
        root._accumulate_grad(gradient)
        return
    backend = root._backend
    order = topological_order(fn, _parent_nodes)
    grads = {id(fn): gradient}
    # A gradient array handed to a leaf is kept as its .grad without a copy when nothing
    # else can hold it: a fresh array (owns its memory) not already given to another leaf.
    given: set[int] = {id(gradient)}
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        for box, version in node.saved_versions:
            if box[0] != version:  # a tensor this node reads was changed in place after forward
                raise _version_error(node, box, version, g)
        if node.retained is not None:
            node.retained._accumulate_grad(g)
        in_grads = node.backward(node, g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        for inp, ig, needed in zip(node.inputs, in_grads, node.needs_input_grad):
            if ig is None or not needed:
                continue
            parent = inp.grad_fn
            if parent is None:
                owned = id(ig) not in given and ig.flags.owndata and ig.flags.writeable
                given.add(id(ig))
                inp._accumulate_grad(ig, owned)
                continue
            key = id(parent)
            previous = grads.get(key)
            grads[key] = ig if previous is None else backend.binary("add", previous, ig)


# Function and Tensor know each other; engine.tensor fills this in when it loads.
_Tensor: Any = None
