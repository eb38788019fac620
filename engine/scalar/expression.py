"""Safe parsing of the scalar expressions given on the command line.

``parse_expression("(x + y) * z", {"x": -2, "y": 5, "z": -4})`` builds the ``Value`` graph.
The text is parsed with :mod:`ast` and walked against a whitelist: numbers, names given
values, ``+ - * / **``, unary minus and calls of a few math functions. Nothing is ever
evaluated as Python code; anything outside the whitelist is an :class:`ExpressionError`
that says what was refused and where.

Hostile input is bounded, not trusted:

* The walk over the syntax tree uses an explicit stack, so any expression that Python's
  parser accepts is built. The parser itself stops at about 3,000 levels of nesting
  (``x+x+...+x`` with N terms is N levels deep); past that the error says so in one line.
* Constants are folded in float arithmetic with the ``Value`` rules (``10**10**10`` is
  ``inf``, never a huge Python int); an integer literal beyond the float range is refused.
* Names follow Python's rules: an assignment ``ｘ=2`` binds the name Python reads as ``x``
  (identifiers are NFKC-normalised), a name given twice or given and never used is an error.
"""

from __future__ import annotations

import ast
import keyword
import unicodedata
from collections.abc import Iterable

from engine.errors import EngineError, ExpressionError
from engine.scalar.value import Value

FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu")
_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
# Sub-expressions up to this many syntax nodes get their text as a label (``(x + y)``);
# bigger ones are drawn as n<k>. Bounds the cost of labelling: ast.unparse is recursive and
# runs once per node, so unbounded labels would be quadratic in a long chain.
LABEL_MAX_NODES = 100
_SHOWN_CHARS = 60


def _short(text: str) -> str:
    """``text`` for an error message: the first characters of a long expression."""
    return repr(text) if len(text) <= _SHOWN_CHARS else repr(text[:_SHOWN_CHARS]) + f"... ({len(text)} characters)"


def normalize_name(name: str) -> str:
    """The name Python's parser reads for ``name``: identifiers are NFKC-normalised (PEP 3131)."""
    return unicodedata.normalize("NFKC", name)


def parse_assignment(text: str) -> tuple[str, float]:
    """``"x=-2"`` -> ``("x", -2.0)``; a clear error for anything else.

    The name is returned NFKC-normalised, as Python reads it in the expression (``ｘ`` -> ``x``).
    """
    raw, sep, number = text.partition("=")
    raw = raw.strip()
    name = normalize_name(raw)
    if not sep or not name.isidentifier():
        raise ExpressionError(f"expected NAME=NUMBER such as x=-2, got {_short(text)}")
    if keyword.iskeyword(name):
        raise ExpressionError(f"{raw}: {name!r} is a Python keyword, not a name an expression can use")
    try:
        return name, float(number)
    except ValueError:
        raise ExpressionError(f"{_spelled(name, raw)}: {_short(number.strip())} is not a number") from None


def _spelled(name: str, raw: str) -> str:
    """``x`` or, when the user typed a look-alike, ``x (written 'ｘ')``."""
    return name if name == raw else f"{name} (written {raw!r})"


def parse_assignments(texts: Iterable[str]) -> dict[str, float]:
    """Parse every ``NAME=NUMBER``; a name given twice (after normalisation) is an error."""
    values: dict[str, float] = {}
    given: dict[str, str] = {}
    for text in texts:
        name, value = parse_assignment(text)
        if name in values:
            raw = [t.partition("=")[0].strip() for t in (given[name], text)]
            reads = "".join(f"; Python reads {r!r} as {name!r}" for r in dict.fromkeys(raw) if r != name)
            raise ExpressionError(
                f"{name} is given twice ({given[name].strip()} and {text.strip()}){reads}; give each name one value"
            )
        values[name], given[name] = value, text
    return values


def parse_expression(text: str, values: dict[str, float]) -> tuple[Value, dict[str, Value]]:
    """Build the graph of ``text`` with inputs ``values``; return the root and the inputs.

    Interior nodes are labelled with their own sub-expression (``(x + y)``), so drawings
    and step printouts read like the formula. Every name in ``values`` must be used.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        if "integer string conversion" in str(exc.msg):  # Python refuses ints past 4300 digits
            raise ExpressionError(
                f"cannot parse {_short(text)}: an integer constant has more than 4300 digits; "
                "numbers here must fit a float (at most about 1.8e308)"
            ) from None
        raise ExpressionError(f"cannot parse {_short(text)}: {exc.msg} at column {exc.offset}") from None
    except (RecursionError, MemoryError):
        # CPython's parser gives up on deep nesting (about 3,000 levels with the default
        # recursion limit; unary minus chains fail earlier, with MemoryError).
        raise ExpressionError(
            f"cannot parse {_short(text)}: it nests too deeply for Python's parser (about 3,000 levels at most; "
            "x+x+...+x with N terms is N levels deep)"
        ) from None
    inputs = {name: Value(v, label=name) for name, v in values.items()}
    root, used = _build(tree.body, inputs, text.strip())
    unused = [name for name in inputs if name not in used]
    if unused:
        raise ExpressionError(
            f"{', '.join(unused)} {'is' if len(unused) == 1 else 'are'} given a value but not used in "
            f"{_short(text)}; remove {'it' if len(unused) == 1 else 'them'} or check the spelling"
        )
    if not isinstance(root, Value):
        raise ExpressionError(f"{_short(text)} has no variables to differentiate")
    return root, {name: v for name, v in inputs.items() if name in used}


def _where(node: ast.AST) -> str:
    return f"at column {getattr(node, 'col_offset', 0) + 1}"


def _children(node: ast.AST) -> list[ast.AST]:
    """The operands of an allowed node, after checking that it is allowed (else raise)."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return []
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return [node.operand]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return [node.left, node.right]
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            shown = ast.unparse(node.func) if _size_at_most(node.func, LABEL_MAX_NODES) else "a long expression"
            raise ExpressionError(
                f"call of {shown!r} is not allowed {_where(node)}; allowed: {', '.join(FUNCTIONS)}"
            )
        if len(node.args) != 1 or node.keywords:
            raise ExpressionError(f"{node.func.id}() takes exactly one argument {_where(node)}")
        return [node.args[0]]
    what = {
        ast.Attribute: "attribute access",
        ast.Subscript: "indexing",
        ast.Lambda: "lambda",
        ast.Compare: "comparison",
        ast.BoolOp: "boolean operator",
    }.get(type(node), f"'{type(node).__name__}' syntax")
    allowed = f"numbers, names, + - * / ** and {', '.join(FUNCTIONS)}()"
    raise ExpressionError(f"{what} is not allowed {_where(node)}; use {allowed}")


def _size_at_most(node: ast.AST, limit: int) -> bool:
    """Whether the tree under ``node`` has at most ``limit`` nodes (iterative, stops early)."""
    stack, count = [node], 0
    while stack:
        count += 1
        if count > limit:
            return False
        stack.extend(ast.iter_child_nodes(stack.pop()))
    return True


def _build(tree: ast.AST, inputs: dict[str, Value], text: str) -> tuple[Value | float, set[str]]:
    """Build ``tree`` bottom-up with an explicit stack (no recursion: any depth Python parses).

    Returns the root (a Value, or a float when ``tree`` holds no names) and the names used.
    Each node is pushed once to check it and queue its operands, and once more, below them,
    with its operand list, to combine their results: a post-order walk, left operand first.
    """
    results: dict[int, Value | float] = {}
    sizes: dict[int, int] = {}  # syntax nodes under each node, to bound labelling
    used: set[str] = set()
    stack: list[tuple[ast.AST, list[ast.AST] | None]] = [(tree, None)]
    while stack:
        node, operands = stack.pop()
        if operands is None:
            operands = _children(node)
            stack.append((node, operands))
            stack.extend((child, None) for child in reversed(operands))
            continue
        args = [results.pop(id(c)) for c in operands]
        sizes[id(node)] = size = 1 + sum(sizes.pop(id(c)) for c in operands)
        result = _combine(node, args, inputs, used, text)
        if isinstance(result, Value) and not result.label and size <= LABEL_MAX_NODES:
            result.label = ast.unparse(node)
        results[id(node)] = result
    return results[id(tree)], used


def _combine(node: ast.AST, args: list, inputs: dict[str, Value], used: set[str], text: str) -> Value | float:
    """The value of one checked node from its operands' values."""
    if isinstance(node, ast.Constant):
        return _constant(node)
    if isinstance(node, ast.Name):
        if node.id not in inputs:
            raw = ast.get_source_segment(text, node) or node.id
            written = f" (written {raw!r}, which Python reads as {node.id!r})" if raw != node.id else ""
            raise ExpressionError(f"undefined name {node.id!r}{written}: give it a value as {node.id}=NUMBER")
        used.add(node.id)
        return inputs[node.id]
    try:
        if isinstance(node, ast.UnaryOp):
            return -args[0] if isinstance(node.op, ast.USub) else args[0]
        if isinstance(node, ast.BinOp):
            left, right = args
            if not isinstance(left, Value) and not isinstance(right, Value):
                # Both constants: fold in float arithmetic with Value's rules (inf on overflow,
                # the same domain errors), so 10**10**10 is inf and never a giant Python int.
                return _BINARY[type(node.op)](Value(left), right).data
            return _BINARY[type(node.op)](left, right)
        arg = args[0] if isinstance(args[0], Value) else Value(args[0])  # a call of one of FUNCTIONS
        return getattr(arg, node.func.id)()
    except EngineError as exc:
        if isinstance(exc, ExpressionError):
            raise
        raise type(exc)(f"{exc} ({_where(node)})") from None


def _constant(node: ast.Constant) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"only numbers are allowed as constants, got {_short(repr(value))} {_where(node)}")
    try:
        return float(value)
    except OverflowError:
        digits = f"{value.bit_length()}-bit"
        raise ExpressionError(
            f"the {digits} integer constant {_where(node)} is too large for a float (at most about 1.8e308); "
            "write it as a float such as 1e308 (1e309 and larger read as inf)"
        ) from None
