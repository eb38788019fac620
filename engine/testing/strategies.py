"""Hypothesis strategies for testing gradients: Values, expressions, tensors, shapes and programs.

    from hypothesis import given
    from engine.testing import strategies as es

    @given(expr=es.expressions(), x=es.floats(), y=es.floats())
    def test_paths_agree(expr, x, y):
        v, _ = expr.value_graph(x=x, y=y)
        t, _ = expr.tensor_graph(x=[x], y=[y])
        assert abs(v.data - t.item()) < 1e-9

Every strategy is built on demand; hypothesis is imported then, never by ``import engine``.

Expressions and programs are domain-aware by interval arithmetic: each subexpression carries an
interval ``[lo, hi]`` that holds its value for every input in the variables' box
``[min_value, max_value]``. ``log`` and ``sqrt`` are applied only to subexpressions with
``lo >= 0.5`` (others are shifted first: ``log(x*y + 5)``), a denominator's interval excludes
``(-0.5, 0.5)``, ``exp`` and powers only see intervals that keep the result below ``LIMIT``.
So a drawn expression is finite, and its derivative bounded, everywhere in the box.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Expression",
    "LIMIT",
    "Program",
    "broadcastable_shapes",
    "expressions",
    "floats",
    "foreign_arrays",
    "matmul_shapes",
    "parse_expression",
    "programs",
    "register_profiles",
    "scalars",
    "shapes",
    "special_floats",
    "tensors",
    "values",
]

LIMIT = 1e4  # no subexpression's interval may leave [-LIMIT, LIMIT]
_POSITIVE = 0.5  # log, sqrt, fractional powers and denominators stay at least this far from 0
_EXP_MAX = 4.0  # exp only of subexpressions below this
_CONSTANTS = (1.0, 2.0, 0.5, 3.0, 1.5)  # readable constants; hypothesis shrinks towards the first
_EXPONENTS = (2.0, 3.0, 0.5, -1.0, 1.5)


# ---- numbers and Values ------------------------------------------------------------------------


def floats(min_value: float = -2.0, max_value: float = 2.0, width: int = 64):
    """Finite floats in ``[min_value, max_value]`` (no NaN, no inf): the inputs of a gradient test."""
    from hypothesis import strategies as st

    _check_range(min_value, max_value, "floats")
    return st.floats(min_value=min_value, max_value=max_value, allow_nan=False, allow_infinity=False, width=width)


def values(min_value: float = -3.0, max_value: float = 3.0, label: str = ""):
    """``engine.Value`` leaves holding a finite float in ``[min_value, max_value]``."""
    from engine.scalar.value import Value

    return floats(min_value, max_value).map(lambda x: Value(x, label=label))


def _check_range(lo: float, hi: float, where: str) -> None:
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise ValueError(f"{where}: need finite min_value <= max_value, got [{lo}, {hi}]")


# ---- the tensor strategies the tests used before (engine.testing.gradcheck's strategies object) --


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Shapes (tuples of ints) with ``min_dims..max_dims`` axes of ``min_side..max_side``."""
    from hypothesis.extra import numpy as hnp

    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def tensors(
    shape: Any = None,
    dtype: Any = "float64",
    elements: Any = None,
    device: Any = None,
    requires_grad: bool = False,
):
    """Tensors of ``shape`` (a tuple or a strategy of tuples; default: 0-3 axes of 1-4).

    ``elements`` is a hypothesis strategy for the values; the default is floats in
    [-3, 3] without NaN or inf (integers in [-10, 10] for int64, 0..255 for uint8, booleans
    for bool). ``device`` is a device name (None: the default device); ``requires_grad``
    applies to floating dtypes only.
    """
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    from engine.core.dtypes import as_dtype
    from engine.core.tensor import tensor

    dt = as_dtype(dtype)
    if elements is None:
        if dt.is_floating_point:
            elements = floats(-3.0, 3.0, width=32 if dt.name == "float32" else 64)
        elif dt.name == "bool":
            elements = st.booleans()
        elif dt.name == "uint8":
            elements = st.integers(min_value=0, max_value=255)
        else:
            elements = st.integers(min_value=-10, max_value=10)
    if shape is None:
        shape = shapes()
    wants_grad = requires_grad and dt.is_floating_point
    return hnp.arrays(dt.np, shape, elements=elements).map(
        lambda a: tensor(a, dtype=dt, device=device, requires_grad=wants_grad)
    )


def special_floats(dtype: Any = "float64", finite_range: float = 3.0):
    """Floats that break naive kernels, mixed with ordinary ones: NaN, +-inf, +-0, the smallest
    subnormals, the largest finite values, and floats in [-finite_range, finite_range]."""
    from hypothesis import strategies as st

    from engine.core.dtypes import as_dtype

    info = np.finfo(as_dtype(dtype).np)
    tiny = float(info.smallest_subnormal)
    specials = [math.nan, math.inf, -math.inf, 0.0, -0.0, tiny, -tiny, float(info.tiny), float(info.max),
                -float(info.max), 1.0, -1.0]
    width = 32 if as_dtype(dtype).name == "float32" else 64
    ordinary = st.floats(-finite_range, finite_range, allow_nan=False, allow_infinity=False, width=width)
    return st.one_of(st.sampled_from(specials), ordinary)


def scalars():
    """Python numbers as users write them next to tensors: bools, small and wrapping ints
    (300 for uint8), negative ints, floats, and numpy scalars."""
    from hypothesis import strategies as st

    return st.one_of(
        st.booleans(),
        st.integers(-300, 300),
        st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
        st.sampled_from([0.5, 1 / 255, -1.0, 2.0, np.float64(0.25), np.int64(3), np.float32(1.5)]),
    )


def foreign_arrays(shape: Any = None, dtype: Any = "float32", elements: Any = None):
    """numpy arrays whose values are ordinary but whose memory is not: a field of a structured
    array (a stride that is no multiple of the item size), reversed, read-only (a view of
    ``bytes``), misaligned (offset by one byte), transposed, sliced with a step, or a broadcast
    (stride 0). What a user may hand to ``engine.tensor``, ``from_numpy`` or ``t.data = ...``;
    the engine must copy or refuse them, never read them as they are."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    from engine.core.dtypes import as_dtype

    npd = as_dtype(dtype).np
    if elements is None:
        elements = st.floats(-3, 3, allow_nan=False, allow_infinity=False, width=npd.itemsize * 8)
    drawn = shapes(min_dims=1, max_dims=3, min_side=1, max_side=4) if shape is None else shape
    layouts = st.sampled_from(
        ["field", "reversed field", "read-only", "misaligned", "transposed", "stepped", "broadcast"]
    )
    return st.tuples(hnp.arrays(npd, drawn, elements=elements), layouts).map(lambda pair: _hostile(*pair))


def _hostile(values: np.ndarray, layout: str) -> np.ndarray:
    """``values`` re-laid in memory as ``layout`` says (see ``strategies.foreign_arrays``)."""
    if layout in ("field", "reversed field"):
        record = np.zeros(values.shape, dtype=[("a", values.dtype), ("pad", "<i2")])
        record["a"] = values[::-1] if layout == "reversed field" else values
        field = record["a"]
        return field[::-1] if layout == "reversed field" else field
    if layout == "read-only":
        return np.frombuffer(values.tobytes(), values.dtype).reshape(values.shape)
    if layout == "misaligned":
        raw = bytearray(values.nbytes + 1)
        out = np.frombuffer(raw, values.dtype, count=values.size, offset=1).reshape(values.shape)
        out[...] = values
        return out
    if layout == "transposed":
        return np.ascontiguousarray(values.T).T
    if layout == "stepped":
        wide = np.zeros(values.shape[:-1] + (values.shape[-1] * 2,), values.dtype)
        wide[..., ::2] = values
        return wide[..., ::2]
    if layout == "broadcast":
        return np.broadcast_to(values[..., :1], values.shape) if values.shape[-1] > 1 else values
    raise ValueError(layout)


# ---- shapes that fit together ------------------------------------------------------------------


def broadcastable_shapes(n: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Tuples of ``n`` shapes that broadcast together (``np.broadcast_shapes(*shapes)`` succeeds).

    Each shape has ``min_dims..max_dims`` axes; an axis is either the common size or 1, and a
    shape may have fewer axes than the result (it is padded with 1s on the left).
    """
    from hypothesis.extra import numpy as hnp

    if n < 1:
        raise ValueError(f"broadcastable_shapes: n must be at least 1, got {n}")
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda r: tuple(r.input_shapes))


def matmul_shapes(vectors: bool = True, max_batch_dims: int = 2, max_side: int = 4):
    """Pairs ``(a_shape, b_shape)`` for which ``a @ b`` is defined, with PyTorch's rules.

    ``(n, k) @ (k, m)``; with ``vectors`` also ``(k,) @ (k, m)``, ``(n, k) @ (k,)`` and
    ``(k,) @ (k,)``; with ``max_batch_dims > 0`` leading batch axes that broadcast
    (``(2, 1, n, k) @ (3, k, m)``).
    """
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    @st.composite
    def draw_pair(draw):
        n, k, m = (draw(st.integers(1, max_side)) for _ in range(3))
        a_vec = vectors and draw(st.booleans())
        b_vec = vectors and draw(st.booleans())
        a, b = ((k,) if a_vec else (n, k)), ((k,) if b_vec else (k, m))
        if max_batch_dims > 0 and not (a_vec and b_vec):
            batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_batch_dims,
                                                           max_side=3))
            ba, bb = batch.input_shapes
            a = a if a_vec else ba + a
            b = b if b_vec else bb + b
        return a, b

    return draw_pair()


# ---- intervals: what keeps expressions and programs in their domain --------------------------------


def _interval(op: str, a: tuple, b: tuple | None = None) -> tuple[float, float]:
    """The interval of ``op`` applied to intervals ``a`` (and ``b``): a box that holds every result."""
    lo, hi = a
    if op in ("add", "sub", "mul", "div"):
        c, d = b
        if op == "add":
            return lo + c, hi + d
        if op == "sub":
            return lo - d, hi - c
        if op == "div":
            c, d = 1.0 / d, 1.0 / c
        corners = (lo * c, lo * d, hi * c, hi * d)
        return min(corners), max(corners)
    if op == "neg":
        return -hi, -lo
    if op == "pow":
        k = b[0]
        if k == 2.0:
            low = 0.0 if lo <= 0.0 <= hi else min(lo * lo, hi * hi)
            return low, max(lo * lo, hi * hi)
        if k < 0:  # base positive
            return hi**k, lo**k
        return lo**k, hi**k  # k = 3 (monotone), or a fractional k on a positive base
    if op == "relu":
        return max(lo, 0.0), max(hi, 0.0)
    if op == "abs":
        low = 0.0 if lo <= 0.0 <= hi else min(abs(lo), abs(hi))
        return low, max(abs(lo), abs(hi))
    monotone = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "tanh": math.tanh,
                "sigmoid": lambda x: 1.0 / (1.0 + math.exp(-x))}
    f = monotone[op]
    return f(lo), f(hi)


def _fits(box: tuple[float, float]) -> bool:
    return -LIMIT <= box[0] and box[1] <= LIMIT


def _shift_for(box: tuple[float, float]) -> float:
    """The smallest whole number c >= 1 with ``box + c`` at least ``_POSITIVE`` (0 when already so)."""
    if box[0] >= _POSITIVE:
        return 0.0
    return float(max(1, math.ceil(_POSITIVE - box[0] + 1e-9)))


def _number(c: float) -> str:
    return str(int(c)) if float(c).is_integer() else repr(float(c))


# ---- expressions ------------------------------------------------------------------------------------

_BINARY = {"add": " + ", "sub": " - ", "mul": "*", "div": "/"}
_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
EXPRESSION_OPS = ("add", "mul", "sub", "div", "neg", "pow", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs")
_KINKED = ("relu", "abs")


class Expression:
    """A scalar expression DAG over named variables: ``str`` reads like math, e.g. ``log(x*y + 2)``.

    Nodes are shared (a DAG): a subexpression used twice is one node, evaluated once, so its
    gradient flows back along both uses and accumulates, as ``d(u*u)/du = 2u`` needs. ``op`` is
    ``"var"`` (``name``), ``"const"`` (``value``), a unary function (exp, log, sqrt, tanh,
    sigmoid, relu, abs, neg) or a binary operator (add, sub, mul, div; pow with a constant
    exponent). ``interval`` holds the node's value for every input in the variables' box.
    """

    __slots__ = ("op", "args", "name", "value", "interval", "depth")

    def __init__(self, op: str, args: tuple = (), name: str = "", value: float = 0.0,
                 interval: tuple[float, float] = (0.0, 0.0)) -> None:
        self.op, self.args, self.name, self.value, self.interval = op, tuple(args), name, float(value), interval
        self.depth = 1 + max((a.depth for a in self.args), default=-1)

    # -- reading it
    def __str__(self) -> str:
        return self._text()

    def __repr__(self) -> str:
        return f"Expression({str(self)!r})"

    def _text(self) -> str:
        op, args = self.op, self.args
        if op == "var":
            return self.name
        if op == "const":
            return _number(self.value)
        if op in _BINARY:
            left, right = args
            return self._wrap(left, False) + _BINARY[op] + self._wrap(right, True)
        if op == "neg":
            return "-" + self._wrap(args[0], False)
        if op == "pow":
            return self._wrap(args[0], True) + "**" + (_number(args[1].value) if args[1].value >= 0
                                                        else f"({_number(args[1].value)})")
        return f"{op}({args[0]._text()})"

    def _wrap(self, child: Expression, right: bool) -> str:
        """``child``'s text, in parentheses when precedence (or a right operand of - / or **) asks."""
        mine, theirs = _PRECEDENCE[self.op], _PRECEDENCE.get(child.op, 5)
        if child.op == "const" and child.value < 0:
            theirs = 0
        # A right operand of equal precedence keeps its parentheses even where algebra could drop
        # them (x*(y/z), x + (y + z)): floats round differently in the other order, and the text
        # must read back to the very same numbers.
        needs = theirs < mine or (right and theirs == mine)
        needs = needs or (self.op in ("pow", "neg") and theirs == mine)
        return f"({child._text()})" if needs else child._text()

    @property
    def variables(self) -> tuple[str, ...]:
        """The variable names this expression reads, sorted."""
        return tuple(sorted({n.name for n in self.nodes() if n.op == "var"}))

    def nodes(self) -> list[Expression]:
        """Every distinct node, children before parents (each shared node once)."""
        order: list[Expression] = []
        seen: set[int] = set()

        def visit(node: Expression) -> None:
            if id(node) in seen:
                return
            seen.add(id(node))
            for a in node.args:
                visit(a)
            order.append(node)

        visit(self)
        return order

    @property
    def size(self) -> int:
        """How many distinct operation nodes (leaves not counted)."""
        return sum(1 for n in self.nodes() if n.op not in ("var", "const"))

    @property
    def reuses(self) -> bool:
        """Whether some non-leaf node feeds more than one parent (or one parent twice)."""
        uses: dict[int, int] = {}
        for n in self.nodes():
            for a in n.args:
                if a.op not in ("var", "const"):
                    uses[id(a)] = uses.get(id(a), 0) + 1
        return any(c > 1 for c in uses.values())

    # -- computing it
    def evaluate(self, env: dict[str, Any]) -> Any:
        """The expression on whatever ``env`` maps names to: floats, ``Value``s or tensors.

        Each node is computed once (shared nodes stay shared in the graph built). Floats use
        ``math``; Values and tensors use their own methods, so the graph is theirs to differentiate.
        """
        missing = [v for v in self.variables if v not in env]
        if missing:
            raise ValueError(f"expression {self}: no value for variable(s) {', '.join(missing)}")
        done: dict[int, Any] = {}
        for node in self.nodes():
            done[id(node)] = _apply(node, [done[id(a)] for a in node.args], env)
        return done[id(self)]

    def __call__(self, **env: Any) -> Any:
        """``expr(x=..., y=...)``: :meth:`evaluate` with keyword arguments."""
        return self.evaluate(env)

    def value_graph(self, **inputs: float) -> tuple[Any, dict[str, Any]]:
        """``(out, leaves)``: the expression built from ``engine.Value`` leaves, one per variable."""
        from engine.scalar.value import Value

        leaves = {name: Value(float(inputs[name]), label=name) for name in self.variables if name in inputs}
        return self.evaluate(leaves), leaves

    def tensor_graph(self, device: Any = None, dtype: Any = "float64", requires_grad: bool = True,
                     **inputs: Any) -> tuple[Any, dict[str, Any]]:
        """``(out, leaves)``: the expression built elementwise from tensor leaves (same shapes, or
        shapes that broadcast), on ``device`` in ``dtype``."""
        from engine.core.tensor import tensor

        leaves = {name: tensor(inputs[name], dtype=dtype, device=device, requires_grad=requires_grad)
                  for name in self.variables if name in inputs}
        return self.evaluate(leaves), leaves

    def kink_distance(self, **inputs: float) -> float:
        """How far the argument of the nearest relu or abs is from its kink at 0 (inf when none).

        Central differences straddle a kink closer than their step; skip such inputs."""
        done: dict[int, float] = {}
        gap = math.inf
        for node in self.nodes():
            done[id(node)] = _apply(node, [done[id(a)] for a in node.args], inputs)
            if node.op in _KINKED:
                gap = min(gap, abs(done[id(node.args[0])]))
        return gap


def _apply(node: Expression, args: list, env: dict[str, Any]) -> Any:
    """One node's operation on its evaluated arguments (floats, Values or tensors)."""
    op = node.op
    if op == "var":
        return env[node.name]
    if op == "const":
        return node.value
    if op == "add":
        return args[0] + args[1]
    if op == "sub":
        return args[0] - args[1]
    if op == "mul":
        return args[0] * args[1]
    if op == "div":
        return args[0] / args[1]
    if op == "neg":
        return -args[0]
    if op == "pow":
        return args[0] ** node.args[1].value
    x = args[0]
    if isinstance(x, float | int | np.floating):
        x = float(x)
        floats_fn: dict[str, Callable[[float], float]] = {
            "exp": math.exp, "log": math.log, "sqrt": math.sqrt, "tanh": math.tanh,
            "sigmoid": lambda t: 1.0 / (1.0 + math.exp(-t)), "relu": lambda t: max(t, 0.0), "abs": abs}
        return floats_fn[op](x)
    if op == "sqrt" and not hasattr(x, "sqrt"):  # Value has no sqrt: sqrt(u) = u ** 0.5
        return x**0.5
    return getattr(x, op)()


def expressions(
    variables: Sequence[str] | int = ("x", "y"),
    max_depth: int = 4,
    max_nodes: int = 8,
    min_value: float = -2.0,
    max_value: float = 2.0,
    ops: Sequence[str] = EXPRESSION_OPS,
):
    """Random scalar expression DAGs (:class:`Expression`) over ``variables``, valid on the box.

    Built bottom-up: a pool starts with the variables; each of 1..``max_nodes`` steps draws an op
    and operands from the pool (any earlier node, so subexpressions are reused) or readable
    constants, and adds the new node; the last node is the expression. No node is deeper than
    ``max_depth``. Domain rules (intervals over ``[min_value, max_value]`` for every variable):
    log, sqrt, negative and fractional powers get an operand shifted by a whole number to at
    least 0.5 (``log(x*y + 5)``); a denominator is shifted likewise unless already clear of
    (-0.5, 0.5); exp only of operands below 4; a node whose interval would leave
    ``[-LIMIT, LIMIT]`` becomes ``tanh`` of its first operand. Hypothesis shrinks towards fewer
    steps, earlier ops in ``ops`` (``add`` first) and operands drawn from the variables.
    """
    from hypothesis import strategies as st

    _check_range(min_value, max_value, "expressions")
    names = tuple(f"x{i}" for i in range(variables)) if isinstance(variables, int) else tuple(variables)
    if not names or any(not (isinstance(n, str) and n.isidentifier()) for n in names):
        raise ValueError(f"expressions: variables must be identifiers, got {variables!r}")
    unknown = [o for o in ops if o not in EXPRESSION_OPS]
    if unknown or not ops:
        raise ValueError(f"expressions: unknown op(s) {unknown}; choose from {', '.join(EXPRESSION_OPS)}")
    if max_depth < 1 or max_nodes < 1:
        raise ValueError(f"expressions: max_depth and max_nodes must be at least 1, got {max_depth}, {max_nodes}")
    box = (float(min_value), float(max_value))

    def const(c: float) -> Expression:
        return Expression("const", value=c, interval=(c, c))

    def make(op: str, args: tuple) -> Expression:
        box_b = args[1].interval if len(args) > 1 else None
        return Expression(op, args, interval=_interval(op, args[0].interval, box_b))

    def positive(e: Expression) -> Expression:
        c = _shift_for(e.interval)
        return e if c == 0 else make("add", (e, const(c)))

    def away_from_zero(e: Expression) -> Expression:
        lo, hi = e.interval
        return e if (lo >= _POSITIVE or hi <= -_POSITIVE) else positive(e)

    @st.composite
    def draw_expression(draw):
        pool = [Expression("var", name=n, interval=box) for n in names]
        steps = draw(st.integers(1, max_nodes))
        for _ in range(steps):
            op = draw(st.sampled_from(list(ops)))
            usable = [e for e in pool if e.depth < max_depth - (1 if op in ("log", "sqrt", "div", "pow") else 0)]
            usable = usable or pool[: len(names)]

            def operand(usable: list[Expression] = usable) -> Expression:
                return usable[draw(st.integers(0, len(usable) - 1))]

            a = operand()
            if op in ("add", "sub", "mul"):
                b = const(draw(st.sampled_from(_CONSTANTS))) if draw(st.booleans()) else operand()
                node = make(op, (a, b))
            elif op == "div":
                node = make(op, (a, away_from_zero(operand())))
            elif op == "pow":
                k = draw(st.sampled_from(_EXPONENTS))
                base = a if float(k).is_integer() and k > 0 else positive(a)
                node = make(op, (base, const(k)))
            elif op in ("log", "sqrt"):
                node = make(op, (positive(a),))
            elif op == "exp" and a.interval[1] > _EXP_MAX:
                node = make("tanh", (a,))
            else:
                node = make(op, (a,))
            if not _fits(node.interval):
                node = make("tanh", (node.args[0],))
            pool.append(node)
        return pool[-1]

    return draw_expression()


def parse_expression(text: str, min_value: float = -2.0, max_value: float = 2.0) -> Expression:
    """The :class:`Expression` written in ``text``, as ``str(expr)`` writes them: ``"log(x*y + 5) - z"``.

    Accepted: variable names, numbers, ``+ - * /``, ``**`` with a constant exponent, unary
    minus, and the functions exp, log, sqrt, tanh, sigmoid, relu, abs. Parsed with ``ast``
    against that whitelist (never evaluated). Intervals are computed for variables in
    ``[min_value, max_value]`` (``(-inf, inf)`` where an op leaves its domain there). Text it
    refuses raises :class:`engine.errors.ExpressionError` (a ``ValueError``), one line.
    """
    import ast

    from engine.errors import ExpressionError  # an EngineError and a ValueError: one line, the parser's refusal

    if not isinstance(text, str) or not text.strip() or len(text) > 2000:
        raise ExpressionError(f"parse_expression: expected the text of an expression (at most 2000 characters), "
                              f"got {text!r:.60}")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as e:
        raise ExpressionError(f"parse_expression: {text!r} is not an expression: {e.msg}") from None
    except RecursionError:  # "-------x" or "((((x))))" deeper than the parser's stack
        raise ExpressionError(f"parse_expression: {text!r:.60} is nested too deeply") from None
    box = (float(min_value), float(max_value))
    names: dict[str, Expression] = {}
    binops = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div"}
    unary = ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs")

    def make(op: str, args: tuple) -> Expression:
        try:
            box_b = args[1].interval if len(args) > 1 else None
            interval = _interval(op, args[0].interval, box_b)
            if any(math.isnan(v) for v in interval):
                raise ValueError
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            interval = (-math.inf, math.inf)
        return Expression(op, args, interval=interval)

    def number(node: ast.AST) -> float | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            if not math.isfinite(float(node.value)):  # 1e400 reads as inf: no derivative to check there
                raise ExpressionError(f"parse_expression: {text!r} holds a number too large for a float")
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = number(node.operand)
            return None if inner is None else -inner
        return None

    def build(node: ast.AST) -> Expression:
        c = number(node)
        if c is not None and not isinstance(node, ast.UnaryOp):
            return Expression("const", value=c, interval=(c, c))
        if isinstance(node, ast.Name):
            if node.id not in names:
                names[node.id] = Expression("var", name=node.id, interval=box)
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in binops:
            return make(binops[type(node.op)], (build(node.left), build(node.right)))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            k = number(node.right)
            if k is None:
                raise ExpressionError(f"parse_expression: in {text!r}, an exponent must be a number")
            return make("pow", (build(node.left), Expression("const", value=k, interval=(k, k))))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = build(node.operand)
            return inner if isinstance(node.op, ast.UAdd) else make("neg", (inner,))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in unary
                and len(node.args) == 1 and not node.keywords):
            return make(node.func.id, (build(node.args[0]),))
        raise ExpressionError(f"parse_expression: {ast.unparse(node)!r} in {text!r} is not allowed; use variables, "
                              f"numbers, + - * / **, and {', '.join(unary)}")

    try:
        expr = build(tree)
    except RecursionError:
        raise ExpressionError(f"parse_expression: {text!r:.60} is nested too deeply") from None
    if not expr.variables:
        raise ExpressionError(f"parse_expression: {text!r} has no variable to differentiate")
    return expr


# ---- programs -----------------------------------------------------------------------------------

PROGRAM_OPS = ("add", "mul", "sub", "div", "neg", "tanh", "sigmoid", "exp", "log", "sqrt", "relu", "abs",
               "sum", "mean", "matmul", "transpose", "reshape", "unsqueeze")


class Program:
    """A straight-line tensor program: input shapes, then steps ``(op, args)`` over earlier registers.

    Registers ``t0..t{n-1}`` are the inputs; step i writes ``t{n+i}``. An argument is a register
    index, or a number for constants and axes (see ``str(program)``). ``run`` executes it with
    the public tensor API on any device; the last register is the output.
    """

    def __init__(self, input_shapes: Sequence[tuple], input_values: Sequence[np.ndarray],
                 steps: Sequence[tuple[str, tuple]], min_value: float, max_value: float) -> None:
        self.input_shapes = [tuple(s) for s in input_shapes]
        self.input_values = [np.asarray(v, dtype=np.float64) for v in input_values]
        self.steps = [(op, tuple(args)) for op, args in steps]
        self.box = (min_value, max_value)

    def __str__(self) -> str:
        lines = [f"t{i}: input of shape {shape}" for i, shape in enumerate(self.input_shapes)]
        first = len(self.input_shapes)
        for j, (op, args) in enumerate(self.steps):
            lines.append(f"t{first + j} = {_step_text(op, args)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return "Program(\n    " + str(self).replace("\n", "\n    ") + "\n)"

    def inputs(self, device: Any = None, dtype: Any = "float64", requires_grad: bool = True) -> list:
        """The drawn input values as tensor leaves on ``device``."""
        from engine.core.tensor import tensor

        return [tensor(v, dtype=dtype, device=device, requires_grad=requires_grad) for v in self.input_values]

    def run(self, *inputs: Any, device: Any = None, dtype: Any = "float64", requires_grad: bool = True) -> Any:
        """Execute the steps on ``inputs`` (default: ``self.inputs(device, dtype, requires_grad)``);
        returns the last register (a tensor, or the numpy result when ``inputs`` are numpy arrays)."""
        regs = list(inputs) if inputs else self.inputs(device, dtype, requires_grad)
        if len(regs) != len(self.input_shapes):
            raise ValueError(f"program takes {len(self.input_shapes)} inputs, got {len(regs)}")
        on_host = isinstance(regs[0], np.ndarray)
        regs = [np.asarray(r, dtype=np.float64) for r in regs] if on_host else regs
        for op, args in self.steps:
            out = _run_step(op, args, regs)
            regs.append(np.asarray(out, dtype=np.float64) if on_host else out)
        return regs[-1]


def _step_text(op: str, args: tuple) -> str:
    def reg(i):
        return f"t{i}"

    if op in _BINARY:
        a, b, const_b = args
        return f"{reg(a)}{_BINARY[op]}{_number(b) if const_b else reg(b)}"
    if op == "neg":
        return f"-{reg(args[0])}"
    if op == "matmul":
        return f"{reg(args[0])} @ {reg(args[1])}"
    if op in ("sum", "mean"):
        return f"{reg(args[0])}.{op}()" if args[1] is None else f"{reg(args[0])}.{op}(dim={args[1]})"
    if op == "transpose":
        return f"{reg(args[0])}.transpose({args[1]}, {args[2]})"
    if op == "reshape":
        return f"{reg(args[0])}.reshape(-1)"
    if op == "unsqueeze":
        return f"{reg(args[0])}.unsqueeze({args[1]})"
    return f"{reg(args[0])}.{op}()"


def _run_step(op: str, args: tuple, regs: list) -> Any:
    x = regs[args[0]]
    numpy_in = isinstance(x, np.ndarray | np.floating)
    if op in _BINARY:
        other = args[1] if args[2] else regs[args[1]]
        return {"add": lambda: x + other, "sub": lambda: x - other, "mul": lambda: x * other,
                "div": lambda: x / other}[op]()
    if op == "neg":
        return -x
    if op == "matmul":
        return x @ regs[args[1]]
    if numpy_in:
        return _numpy_step(op, args, x)
    if op in ("sum", "mean"):
        return getattr(x, op)() if args[1] is None else getattr(x, op)(dim=args[1])
    if op == "transpose":
        return x.transpose(args[1], args[2])
    if op == "reshape":
        return x.reshape(-1)
    if op == "unsqueeze":
        return x.unsqueeze(args[1])
    return getattr(x, op)()


def _numpy_step(op: str, args: tuple, x: np.ndarray) -> np.ndarray:
    """The float64 numpy reference of one step (for ``run`` on numpy arrays)."""
    if op in ("sum", "mean"):
        return np.asarray(getattr(np, op)(x, axis=args[1]))
    if op == "transpose":
        return np.swapaxes(x, args[1], args[2])
    if op == "reshape":
        return x.reshape(-1)
    if op == "unsqueeze":
        return np.expand_dims(x, args[1])
    table = {"tanh": np.tanh, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs,
             "sigmoid": lambda t: 1.0 / (1.0 + np.exp(-t)), "relu": lambda t: np.maximum(t, 0.0)}
    return table[op](x)


def programs(
    max_inputs: int = 2,
    max_steps: int = 6,
    max_dims: int = 2,
    max_side: int = 3,
    min_value: float = -2.0,
    max_value: float = 2.0,
    ops: Sequence[str] = PROGRAM_OPS,
):
    """Random straight-line tensor programs (:class:`Program`) over the public ops, with their inputs.

    Inputs: 1..``max_inputs`` tensors with broadcastable shapes (0..``max_dims`` axes of
    1..``max_side``), values in ``[min_value, max_value]``. Each step draws an op from ``ops``
    and registers it fits: binary ops need broadcastable shapes (or take a constant), matmul two
    2-D registers whose inner sizes match, reductions and shape ops an axis of the register.
    Domain rules as for :func:`expressions`, per register interval: log and sqrt only of
    registers whose interval starts at 0.5 or more, a denominator clear of (-0.5, 0.5), exp
    below 4, nothing leaves ``[-LIMIT, LIMIT]``; a step that fits nowhere becomes ``tanh``.
    """
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    _check_range(min_value, max_value, "programs")
    unknown = [o for o in ops if o not in PROGRAM_OPS]
    if unknown or not ops:
        raise ValueError(f"programs: unknown op(s) {unknown}; choose from {', '.join(PROGRAM_OPS)}")

    @st.composite
    def draw_program(draw):
        n = draw(st.integers(1, max_inputs))
        in_shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=max_dims,
                                                           max_side=max_side)).input_shapes
        vals = [draw(hnp.arrays(np.float64, s, elements=floats(min_value, max_value))) for s in in_shapes]
        regs = [(tuple(s), (float(min_value), float(max_value))) for s in in_shapes]  # (shape, interval)
        steps = []
        for _ in range(draw(st.integers(1, max_steps))):
            op = draw(st.sampled_from(list(ops)))
            step = _program_step(draw, op, regs)
            if step is None:
                step = ("tanh", (draw(st.integers(0, len(regs) - 1)),))
            shape, box = _step_result(step[0], step[1], regs)
            if not _fits(box):
                step = ("tanh", (step[1][0],))
                shape, box = _step_result("tanh", step[1], regs)
            steps.append(step)
            regs.append((shape, box))
        return Program(in_shapes, vals, steps, min_value, max_value)

    return draw_program()


def _program_step(draw: Callable, op: str, regs: list) -> tuple | None:
    """Draw arguments for ``op`` over the registers it fits; None when it fits none."""
    from hypothesis import strategies as st

    def pick(candidates: list[int]) -> int | None:
        return None if not candidates else candidates[draw(st.integers(0, len(candidates) - 1))]

    every = list(range(len(regs)))
    a = pick(every)
    shape, (lo, hi) = regs[a]
    if op in ("add", "sub", "mul", "div"):
        if draw(st.booleans()):
            c = draw(st.sampled_from(_CONSTANTS))
            return (op, (a, c, True))
        fits = [i for i in every if _broadcasts(shape, regs[i][0])]
        if op == "div":
            fits = [i for i in fits if regs[i][1][0] >= _POSITIVE or regs[i][1][1] <= -_POSITIVE]
        b = pick(fits)
        return None if b is None else (op, (a, b, False))
    if op in ("log", "sqrt"):
        a = pick([i for i in every if regs[i][1][0] >= _POSITIVE])
        return None if a is None else (op, (a,))
    if op == "exp":
        a = pick([i for i in every if regs[i][1][1] <= _EXP_MAX])
        return None if a is None else (op, (a,))
    if op == "matmul":
        a = pick([i for i in every if len(regs[i][0]) == 2])
        if a is None:
            return None
        b = pick([i for i in every if len(regs[i][0]) == 2 and regs[i][0][0] == regs[a][0][1]])
        return None if b is None else (op, (a, b))
    if op in ("sum", "mean"):
        if not shape or draw(st.booleans()):
            return (op, (a, None))
        return (op, (a, draw(st.integers(0, len(shape) - 1))))
    if op == "transpose":
        a = pick([i for i in every if len(regs[i][0]) >= 2])
        if a is None:
            return None
        nd = len(regs[a][0])
        d0, d1 = draw(st.integers(0, nd - 1)), draw(st.integers(0, nd - 1))
        return (op, (a, d0, d1))
    if op == "unsqueeze":
        return (op, (a, draw(st.integers(0, len(shape)))))
    return (op, (a,))  # reshape and the elementwise functions


def _broadcasts(s: tuple, t: tuple) -> bool:
    try:
        np.broadcast_shapes(s, t)
    except ValueError:
        return False
    return True


def _step_result(op: str, args: tuple, regs: list) -> tuple[tuple, tuple[float, float]]:
    """(shape, interval) of a step's result."""
    shape, box = regs[args[0]]
    if op in _BINARY:
        other_shape, other_box = ((), (args[1], args[1])) if args[2] else regs[args[1]]
        return tuple(np.broadcast_shapes(shape, other_shape)), _interval(op, box, other_box)
    if op == "neg":
        return shape, _interval("neg", box)
    if op == "matmul":
        (n, k), (other_shape, other_box) = shape, regs[args[1]]
        lo, hi = _interval("mul", box, other_box)
        return (n, other_shape[1]), (k * lo, k * hi)
    if op in ("sum", "mean"):
        dim = args[1]
        out = () if dim is None else shape[:dim] + shape[dim + 1:]
        if op == "mean":
            return out, box
        count = int(np.prod(shape)) if dim is None else shape[dim]
        return out, (box[0] * count, box[1] * count)
    if op == "transpose":
        s = list(shape)
        s[args[1]], s[args[2]] = s[args[2]], s[args[1]]
        return tuple(s), box
    if op == "reshape":
        return (int(np.prod(shape)),), box
    if op == "unsqueeze":
        return shape[: args[1]] + (1,) + shape[args[1]:], box
    return shape, _interval(op, box)


# ---- settings profiles --------------------------------------------------------------------------

PROFILES = {"dev": 20, "ci": 100, "thorough": 1000}  # max_examples of each


def register_profiles() -> None:
    """Register hypothesis settings profiles ``dev`` (20 examples, quick), ``ci`` (100 examples,
    derandomized so CI is reproducible, no deadline) and ``thorough`` (1000 examples, no deadline).
    Select one with ``pytest --hypothesis-profile ci`` or ``settings.load_profile("ci")``."""
    from hypothesis import HealthCheck, Phase, settings

    # No "explain" phase: its lines point into engine.testing's own failure branches, not the user's code.
    phases = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
    settings.register_profile("dev", max_examples=PROFILES["dev"], deadline=None, phases=phases)
    settings.register_profile("ci", max_examples=PROFILES["ci"], deadline=None, derandomize=True, phases=phases,
                              print_blob=True, suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("thorough", max_examples=PROFILES["thorough"], deadline=None, phases=phases,
                              suppress_health_check=[HealthCheck.too_slow])
