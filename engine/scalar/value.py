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

Special values follow IEEE 754 and PyTorch's float64 results, outputs and gradients alike:

* ``inf`` and ``nan`` inputs propagate (``log(inf) = inf``, ``relu(nan) = nan``), and an
  overflow gives ``±inf`` (``Value(1e300) ** 2``, ``exp(1000)``, ``2 ** Value(1e6)``)
  instead of Python's ``OverflowError``. Where PyTorch picks a derivative at a kink we pick
  the same one: relu passes the gradient for every x except ``x <= 0`` (so at NaN it
  passes it, as PyTorch does), abs has slope ``sign(x)`` and 0 at 0 and at NaN.
* Four inputs outside an op's domain raise on purpose, where PyTorch would quietly return
  nan or inf, because a learner should see the mistake where it happens: ``log`` of
  ``x <= 0`` (DomainError), a negative base to a finite non-integer power (DomainError),
  division by exactly zero and ``0`` to a negative power (DivisionByZeroError). They hold
  for infinite inputs too (``log(-inf)`` raises), but never for NaN: a NaN input is already
  "not a number", so the output is NaN (``nan / 0 = nan``) with PyTorch's derivatives.
* A number that is not a float at all (``Value(10**400)``) is an EngineValueError.
* Local derivatives are stored numbers, so one that overflows is ``inf`` (``d(a/b)/da = 1/b``
  at ``b = 1e-310``), as PyTorch's gradient is when the upstream gradient is 1.
"""

from __future__ import annotations

import math
from numbers import Real
from operator import attrgetter

from engine.autograd.graph import topological_order
from engine.errors import DivisionByZeroError, DomainError, EngineTypeError, EngineValueError

Number = int | float

_parents_of = attrgetter("parents")


def _check_number(data: object, where: str) -> float:
    """Return ``data`` as a float, or raise an error that names what was given."""
    if isinstance(data, bool) or not isinstance(data, Real):
        raise EngineTypeError(
            f"{where}: expected a real number (int or float), got {type(data).__name__} {_shown(data)}"
        )
    try:
        return float(data)
    except OverflowError:
        # An int (or Fraction) beyond the float range. Say how big rather than print it:
        # printing a 10**400-sized int is slow and, past 4300 digits, itself an error.
        what = type(data).__name__
        if isinstance(data, int):
            what += f" with about {int(data.bit_length() * math.log10(2)) + 1} digits"
        raise EngineValueError(
            f"{where}: {what} is too large for a float (the largest is about 1.8e308); "
            "use a float such as 1e308 or inf"
        ) from None


def _shown(x: object) -> str:
    """``repr(x)`` cut to one short line for an error message."""
    if isinstance(x, int) and x.bit_length() > 200:  # repr of a huge int is slow, or an error
        return f"with {x.bit_length()} bits"
    text = repr(x)
    return text if len(text) <= 60 and "\n" not in text else text[:60].split("\n")[0] + "..."


def _check_label(label: object) -> str:
    if not isinstance(label, str):
        raise EngineTypeError(f"Value label: expected a str, got {type(label).__name__} {_shown(label)}")
    return label


def _is_odd_integer(y: float) -> bool:
    return math.isfinite(y) and y.is_integer() and y % 2 == 1


def _ieee_pow(x: float, y: float) -> float:
    """``x ** y`` as IEEE 754 / C99 ``pow`` defines it, never raising.

    Overflow gives ``±inf``, ``0 ** negative`` gives ``±inf`` and a negative base to a
    non-integer power gives ``nan``, where Python raises. Used for outputs whose domain
    was already checked and for local derivatives, which must not raise.
    """
    try:
        return math.pow(x, y)
    except OverflowError:
        # |x ** y| is past the float range; it is negative only for x < 0 and an odd power.
        return -math.inf if x < 0 and _is_odd_integer(y) else math.inf
    except ValueError:
        if x == 0.0:  # 0 ** negative: the pole; -0.0 to an odd negative power is -inf
            return -math.inf if math.copysign(1.0, x) < 0 and _is_odd_integer(y) else math.inf
        return math.nan  # negative ** non-integer is not a real number


def _ieee_div(x: float, y: float) -> float:
    """``x / y`` as IEEE 754 defines it: ``±inf`` or ``nan`` at ``y = 0`` instead of raising."""
    if y != 0.0:
        return x / y
    if x == 0.0 or math.isnan(x):
        return math.nan
    return math.copysign(math.inf, x) * math.copysign(1.0, y)


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
    """``base ** exponent`` with domain errors that name the op and the numbers.

    NaN on either side skips the checks and gives IEEE's answer (``nan``, or 1 for ``1 ** nan``
    and ``nan ** 0``). An infinite exponent is not "non-integer": ``(-2) ** inf = inf``.
    """
    if not (math.isnan(base) or math.isnan(exponent)):
        if base == 0.0 and exponent < 0:
            raise DivisionByZeroError(f"{op}: 0 ** {exponent:g} divides by zero")
        if base < 0 and math.isfinite(exponent) and not exponent.is_integer():
            raise DomainError(
                f"{op}: negative base {base:g} with non-integer power {exponent:g} is not a real "
                "number; use an integer power or a positive base"
            )
    return _ieee_pow(base, exponent)


class Value:
    """A scalar node of a computation graph.

    Attributes:
        data: the number this node holds.
        grad: d(root)/d(this node), accumulated by :meth:`backward` (it adds; see there).
        label: a name for drawings and step-by-step printouts; a ``str`` (checked when set,
            at construction or later, because the drawings and printouts use it as text).
        op: the op that made this node (``"+"``, ``"tanh"``...), ``""`` for an input.
        parents: the inputs of that op, in order, one entry per use.
        local_grads: d(this node)/d(parent) for each entry of ``parents``.
    """

    __slots__ = ("data", "grad", "_label", "op", "parents", "local_grads", "_upstream")

    def __init__(self, data: Number, label: str = "") -> None:
        self.data = _check_number(data, "Value")
        self.grad = 0.0
        self._label = _check_label(label)
        self.op = ""
        self.parents: tuple[Value, ...] = ()
        self.local_grads: tuple[float, ...] = ()

    @classmethod
    def _result(cls, data: float, parents: tuple, local_grads: tuple, op: str) -> Value:
        """Make an op's output without re-checking ``data`` (it is always a float here)."""
        out = cls.__new__(cls)
        out.data = data
        out.grad = 0.0
        out._label = ""
        out.op = op
        out.parents = parents
        out.local_grads = local_grads
        return out

    @property
    def label(self) -> str:
        """The node's name in drawings and printouts (``""``: unnamed)."""
        return self._label

    @label.setter
    def label(self, label: str) -> None:
        self._label = _check_label(label)

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # ---- binary ops: output, then d out / d each input -------------------------------

    def __add__(self, other: Value | Number) -> Value:
        other = _as_value(other, "+")
        # d(a+b)/da = 1, d(a+b)/db = 1
        return Value._result(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __sub__(self, other: Value | Number) -> Value:
        other = _as_value(other, "-")
        # d(a-b)/da = 1, d(a-b)/db = -1
        return Value._result(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __mul__(self, other: Value | Number) -> Value:
        other = _as_value(other, "*")
        # d(ab)/da = b, d(ab)/db = a
        return Value._result(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __truediv__(self, other: Value | Number) -> Value:
        other = _as_value(other, "/")
        a, b = self.data, other.data
        if b == 0.0 and not math.isnan(a):
            raise DivisionByZeroError(f"Value division: {a:g} / 0 divides by zero")
        # A real division, not a * (1/b): 1/b overflows for tiny b and rounds twice.
        out = _ieee_div(a, b)
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -(a/b)/b (PyTorch's form: no b^2 to overflow)
        return Value._result(out, (self, other), (_ieee_div(1.0, b), -_ieee_div(out, b)), "/")

    def __pow__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return self._pow_value(other)
        n = _check_number(other, "Value ** exponent")
        out = _pow(self.data, n, "Value ** number")
        # d(x^n)/dx = n x^(n-1): infinite at x = 0 for n < 1; exactly 0 for n = 0 (x^0 is
        # constant, even at x = nan, as PyTorch).
        local = 0.0 if n == 0 else n * _ieee_pow(self.data, n - 1)
        return Value._result(out, (self,), (local,), f"**{n:g}")

    def _pow_value(self, exponent: Value) -> Value:
        """``a ** b`` with both Values: defined for a > 0 (``a^b = e^(b ln a)``)."""
        a, b = self.data, exponent.data
        if a <= 0 and not math.isnan(b):  # a NaN exponent makes NaN whatever the base
            raise DomainError(
                f"Value ** Value: base must be positive (a ** b = exp(b * log a)), got base {a:g}"
            )
        out = _pow(a, b, "Value ** Value")
        # d(a^b)/da = b a^(b-1) (0 when b = 0, as PyTorch), d(a^b)/db = a^b ln a
        d_base = 0.0 if b == 0 else b * _ieee_pow(a, b - 1)
        d_exponent = out * (math.log(a) if a > 0 else math.nan)
        return Value._result(out, (self, exponent), (d_base, d_exponent), "**")

    # Plain numbers on the left: 2 + x, 2 - x, 2 * x, 2 / x, 2 ** x.
    def __radd__(self, other: Number) -> Value:
        return _as_value(other, "+") + self

    def __rsub__(self, other: Number) -> Value:
        return _as_value(other, "-") - self

    def __rmul__(self, other: Number) -> Value:
        return _as_value(other, "*") * self

    def __rtruediv__(self, other: Number) -> Value:
        return _as_value(other, "/") / self

    def __rpow__(self, other: Number) -> Value:
        return _as_value(other, "**") ** self

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
        """Natural log; d/dx ln x = 1/x. Defined for x > 0 (and NaN, which gives NaN)."""
        x = self.data
        if x <= 0:
            raise DomainError(f"Value.log: log is defined for x > 0, got x = {x:g}")
        # 1/x overflows to inf for subnormal x (5e-324), as it does in PyTorch.
        return Value._result(math.log(x), (self,), (_ieee_div(1.0, x),), "log")

    def tanh(self) -> Value:
        """tanh x; d/dx tanh = 1 - tanh^2."""
        t = math.tanh(self.data)
        return Value._result(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self) -> Value:
        """s = 1 / (1 + e^-x); d/dx s = s (1 - s)."""
        s = _sigmoid(self.data)
        return Value._result(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self) -> Value:
        """max(0, x); d/dx = 0 for x <= 0, else 1 (PyTorch's choices at 0 and at NaN).

        Written as PyTorch computes it, so NaN stays NaN (and passes its gradient on) and
        -0.0 stays -0.0: ``0 if x < 0 else x``, slope ``0 if x <= 0 else 1``.
        """
        x = self.data
        return Value._result(0.0 if x < 0 else x, (self,), (0.0 if x <= 0 else 1.0,), "relu")

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x for x > 0, else slope * x; d/dx = 1 or slope (slope at 0 and at NaN, as PyTorch)."""
        slope = _check_number(slope, "Value.leaky_relu slope")
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


def _as_value(x: Value | Number, op: str) -> Value:
    """``x`` itself if it is a Value, else a new input Value; errors name the op."""
    return x if isinstance(x, Value) else Value(_check_number(x, f"Value {op}"))

