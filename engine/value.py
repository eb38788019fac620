"""``Value``: a scalar that remembers how it was made, to teach the chain rule.

Every op computes its output *and* the local derivative of the output with respect to
each input, right away, at forward time. A node stores its parents as an ordered tuple
(one entry per use, so ``a + a`` has two edges) and the matching local derivatives.
Backward is then one loop over the graph in reverse topological order::

    grad(parent) += grad(node) * d node / d parent        # the chain rule, edge by edge

Storing numbers instead of closures keeps that loop tight and gives the visualiser the
numbers it draws on each edge.

    >>> x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    >>> f = (x + y) * z
    >>> f.backward()
    >>> x.grad, y.grad, z.grad
    (-4.0, -4.0, 3.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from numbers import Real
from operator import attrgetter

from engine.autograd import topological_order
from engine.errors import DivisionByZeroError, DomainError, EngineTypeError

Number = int | float

_parents_of = attrgetter("parents")


def _check_number(data: object, where: str) -> float:
    """Return ``data`` as a float, or raise a TypeError that names what was given."""
    if isinstance(data, bool) or not isinstance(data, Real):
        raise EngineTypeError(
            f"{where}: expected a real number (int or float), got {type(data).__name__} {data!r}"
        )
    return float(data)


def _exp(x: float) -> float:
    """``math.exp`` that overflows to inf, as IEEE arithmetic does, instead of raising."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _sigmoid(x: float) -> float:
    """``1 / (1 + e^-x)``, written so neither branch can overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _pow(base: float, exponent: float, op: str) -> float:
    """``base ** exponent`` with domain errors that name the op and the numbers."""
    if base == 0.0 and exponent < 0:
        raise DivisionByZeroError(f"{op}: 0 ** {exponent:g} divides by zero")
    if base < 0 and not float(exponent).is_integer():
        raise DomainError(
            f"{op}: negative base {base:g} with non-integer power {exponent:g} is not a real "
            "number; use an integer power or a positive base"
        )
    try:
        return base**exponent
    except OverflowError:
        return math.inf if base > 0 or float(exponent) % 2 == 0 else -math.inf


class Value:
    """A scalar node of a computation graph.

    Attributes:
        data: the number this node holds.
        grad: d(root)/d(this node), accumulated by :meth:`backward` (it adds; see there).
        label: a name for drawings and step-by-step printouts.
        op: the op that made this node (``"+"``, ``"tanh"``...), ``""`` for an input.
        parents: the inputs of that op, in order, one entry per use.
        local_grads: d(this node)/d(parent) for each entry of ``parents``.
    """

    __slots__ = ("data", "grad", "label", "op", "parents", "local_grads", "_upstream")

    def __init__(self, data: Number, label: str = "") -> None:
        self.data = _check_number(data, "Value")
        self.grad = 0.0
        self.label = label
        self.op = ""
        self.parents: tuple[Value, ...] = ()
        self.local_grads: tuple[float, ...] = ()

    @classmethod
    def _result(cls, data: float, parents: tuple, local_grads: tuple, op: str) -> Value:
        """Make an op's output without re-checking ``data`` (it is always a float here)."""
        out = cls.__new__(cls)
        out.data = data
        out.grad = 0.0
        out.label = ""
        out.op = op
        out.parents = parents
        out.local_grads = local_grads
        return out

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # ---- binary ops: output, then d out / d each input -------------------------------

    def __add__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        # d(a+b)/da = 1, d(a+b)/db = 1
        return Value._result(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __sub__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        # d(a-b)/da = 1, d(a-b)/db = -1
        return Value._result(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __mul__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        # d(ab)/da = b, d(ab)/db = a
        return Value._result(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __truediv__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        if other.data == 0.0:
            raise DivisionByZeroError(f"Value division: {self.data:g} / 0 divides by zero")
        inv = 1.0 / other.data
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        return Value._result(self.data * inv, (self, other), (inv, -self.data * inv * inv), "/")

    def __pow__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return self._pow_value(other)
        n = _check_number(other, "Value ** exponent")
        out = _pow(self.data, n, "Value ** number")
        # d(x^n)/dx = n x^(n-1); at x = 0 with n < 1 that slope is infinite.
        if self.data == 0.0 and n < 1:
            local = 0.0 if n == 0 else math.inf
        else:
            local = n * _pow(self.data, n - 1, "Value ** number")
        return Value._result(out, (self,), (local,), f"**{n:g}")

    def _pow_value(self, exponent: Value) -> Value:
        """``a ** b`` with both Values: defined for a > 0 (``a^b = e^(b ln a)``)."""
        a, b = self.data, exponent.data
        if a <= 0:
            raise DomainError(
                f"Value ** Value: base must be positive (a ** b = exp(b * log a)), got base {a:g}"
            )
        out = _pow(a, b, "Value ** Value")
        # d(a^b)/da = b a^(b-1), d(a^b)/db = a^b ln a
        return Value._result(out, (self, exponent), (b * a ** (b - 1), out * math.log(a)), "**")

    # Plain numbers on the left: 2 + x, 2 - x, 2 * x, 2 / x, 2 ** x.
    def __radd__(self, other: Number) -> Value:
        return Value(other) + self

    def __rsub__(self, other: Number) -> Value:
        return Value(other) - self

    def __rmul__(self, other: Number) -> Value:
        return Value(other) * self

    def __rtruediv__(self, other: Number) -> Value:
        return Value(other) / self

    def __rpow__(self, other: Number) -> Value:
        return Value(other) ** self

    # ---- unary ops -------------------------------------------------------------------

    def __neg__(self) -> Value:
        # d(-x)/dx = -1
        return Value._result(-self.data, (self,), (-1.0,), "neg")

    def __pos__(self) -> Value:
        return self

    def exp(self) -> Value:
        """e^x; d/dx e^x = e^x."""
        out = _exp(self.data)
        return Value._result(out, (self,), (out,), "exp")

    def log(self) -> Value:
        """Natural log; d/dx ln x = 1/x. Defined for x > 0."""
        if self.data <= 0:
            raise DomainError(f"Value.log: log is defined for x > 0, got x = {self.data:g}")
        return Value._result(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self) -> Value:
        """tanh x; d/dx tanh = 1 - tanh^2."""
        t = math.tanh(self.data)
        return Value._result(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self) -> Value:
        """s = 1 / (1 + e^-x); d/dx s = s (1 - s)."""
        s = _sigmoid(self.data)
        return Value._result(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self) -> Value:
        """max(0, x); d/dx = 1 for x > 0, else 0 (PyTorch's choice at 0)."""
        x = self.data
        return Value._result(x if x > 0 else 0.0, (self,), (1.0 if x > 0 else 0.0,), "relu")

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x for x > 0, else slope * x; d/dx = 1 or slope."""
        x = self.data
        return Value._result(
            x if x > 0 else slope * x, (self,), (1.0 if x > 0 else slope,), "leaky_relu"
        )

    def abs(self) -> Value:
        """|x|; d/dx = sign(x), 0 at x = 0 (as PyTorch)."""
        x = self.data
        sign = 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)
        return Value._result(abs(x), (self,), (sign,), "abs")

    __abs__ = abs

    # ---- backward --------------------------------------------------------------------

    def nodes(self) -> list[Value]:
        """Every node this one depends on (itself included), inputs first."""
        return topological_order(self, _parents_of)

    def backward(self) -> None:
        """Run the chain rule from this node down: ``d self / d node`` for every node below.

        ``self`` gets gradient 1; then, in reverse topological order, each node passes
        ``its gradient * local derivative`` to each parent. Like PyTorch, the result is
        *added* to ``.grad``: calling ``backward()`` twice doubles every gradient. Call
        :meth:`zero_grad` (or set ``.grad = 0``) between passes when that is not wanted.
        Each pass computes its own gradients first, so interior nodes also add exactly
        one pass's worth, never a gradient of a gradient.
        """
        order = self.nodes()
        for node in order:
            node._upstream = 0.0
        self._upstream = 1.0
        for node in reversed(order):
            g = node._upstream
            node.grad += g
            for parent, local in zip(node.parents, node.local_grads):
                parent._upstream += g * local

    def zero_grad(self) -> None:
        """Set ``.grad = 0`` on this node and every node it depends on."""
        for node in self.nodes():
            node.grad = 0.0


def walk(root: Value) -> Iterator[Value]:
    """Yield the nodes of ``root``'s graph from the root down (the order backward uses)."""
    yield from reversed(root.nodes())
