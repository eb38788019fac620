"""The backward driver: the chain rule over a tensor graph, one node at a time.

``run_backward(root, gradient)`` orders the nodes below ``root`` (an iterative topological
order, shared with ``Value``), then runs each node's ``backward`` once every node that uses
it has passed its gradient down, summing the gradients that arrive from several consumers.
Two rules live here and nowhere else:

* **Gradients are fitted to their input's shape**: an op may return the gradient in the
  broadcast shape it computed in; it is summed back over the broadcast axes here
  (``fit_to_shape``). No op unbroadcasts by itself.
* **Saved tensors are checked**: a node whose saved inputs (or output) changed in place since
  forward refuses to run (``GradError``), so a stale value never makes a wrong gradient.
"""

from __future__ import annotations

from operator import attrgetter

from engine.autograd.graph import topological_order
from engine.autograd.op import TensorBase
from engine.errors import GradError

_parent_nodes = attrgetter("parents")


def fit_to_shape(backend, grad, shape: tuple):
    """``grad`` made to have ``shape``: summed over the axes broadcasting added or stretched
    (a (3, 1) input broadcast to (2, 3, 4) gets the (2, 3, 4) gradient summed over axes 0 and 2),
    or expanded where the gradient is smaller (a 0-d gradient of a scalar op on a bigger input)."""
    gshape = grad.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    if lead >= 0 and all(g == s or s == 1 for g, s in zip(gshape[lead:], shape)):
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
        summed = backend.sum(grad, axes, keepdim=True) if axes else grad
        return backend.reshape(summed, shape)
    return backend.expand(grad, shape)


def _version_error(node, box: list, version: int, grad) -> GradError:
    """The error for a tensor that ``node.backward`` reads and that changed in place after forward."""
    for position, t in enumerate(node.inputs):
        if isinstance(t, TensorBase) and t._version_box is box:
            what = f"{t.dtype.name} tensor of shape {tuple(t.shape)}, which is input {position}"
            break
    else:
        what = f"{grad.dtype} tensor of shape {tuple(grad.shape)}, which is the output"
    return GradError(
        "backward: one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: a {what} of {node.name()}, is at version {box[0]}; expected version {version} instead. "
        "Change it after backward(), or change a .clone() of it"
    )


def run_backward(root: TensorBase, gradient) -> None:
    """Backpropagate ``gradient`` (an array shaped like ``root``) to every leaf below ``root``.

    Gradients arriving at a node from several consumers are summed before the node runs;
    leaves *add* into ``.grad`` (as in PyTorch). The graph is kept, so backward may be
    called again (it adds again).
    """
    fn = root.grad_fn
    if fn is None:
        root._accumulate_grad(gradient)
        return
    order = topological_order(fn, _parent_nodes)
    # Keyed by the node itself: nodes hash by identity, in C (no id() call per edge).
    grads = {fn: gradient}
    # A gradient array handed to a leaf is kept as its .grad without a copy when nothing
    # else can hold it: a fresh array (not a view) not already given to another leaf.
    given: set[int] = {id(gradient)}
    for node in reversed(order):
        g = grads.pop(node, None)
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
        for inp, ig, needed, parent in zip(node.inputs, in_grads, node.needs_input_grad, node.input_nodes):
            if ig is None or not needed:
                continue
            # The input's backend, not the root's: a device move's backward hands back an array
            # of the device it came from.
            bk = inp._backend
            shape = inp._data.shape
            if ig.shape != shape:
                ig = fit_to_shape(bk, ig, shape)
            # ``parent`` is the node that made this input when the op ran (an in-place change since
            # has given the tensor object a newer node, which must not receive this gradient).
            if parent is None:
                owned = id(ig) not in given and not bk.is_view(ig)
                given.add(id(ig))
                inp._accumulate_grad(ig, owned)
                continue
            previous = grads.get(parent)
            grads[parent] = ig if previous is None else bk.binary("add", previous, ig)
