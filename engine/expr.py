"""Safe parsing of the scalar expressions given on the command line.

``parse_expression("(x + y) * z", {"x": -2, "y": 5, "z": -4})`` builds the ``Value`` graph.
The text is parsed with :mod:`ast` and walked against a whitelist: numbers, names given
values, ``+ - * / **``, unary minus and calls of a few math functions. Nothing is ever
evaluated as Python code; anything outside the whitelist is an :class:`ExpressionError`
that says what was refused and where.
"""

from __future__ import annotations

import ast

from engine.errors import ExpressionError
from engine.value import Value

FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu")
_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def parse_assignment(text: str) -> tuple[str, float]:
    """``"x=-2"`` -> ``("x", -2.0)``; a clear error for anything else."""
    name, sep, number = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise ExpressionError(f"expected NAME=NUMBER such as x=-2, got {text!r}")
    try:
        return name, float(number)
    except ValueError:
        raise ExpressionError(f"{name}: {number.strip()!r} is not a number") from None


def parse_expression(text: str, values: dict[str, float]) -> tuple[Value, dict[str, Value]]:
    """Build the graph of ``text`` with inputs ``values``; return the root and the inputs.

    Interior nodes are labelled with their own sub-expression (``(x + y)``), so drawings
    and step printouts read like the formula.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {text!r}: {exc.msg} at column {exc.offset}") from None
    inputs = {name: Value(v, label=name) for name, v in values.items()}
    root = _build(tree.body, inputs)
    if not isinstance(root, Value):
        raise ExpressionError(f"{text!r} has no variables to differentiate")
    used = {node.label for node in root.nodes()}
    return root, {name: v for name, v in inputs.items() if name in used}


def _where(node: ast.AST) -> str:
    return f"at column {getattr(node, 'col_offset', 0) + 1}"


def _build(node: ast.AST, inputs: dict[str, Value]) -> Value | float:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"only numbers are allowed as constants, got {node.value!r} {_where(node)}")
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in inputs:
            raise ExpressionError(f"undefined name {node.id!r}: give it a value as {node.id}=NUMBER")
        return inputs[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand, inputs)
        return _label(-operand if isinstance(node.op, ast.USub) else operand, node)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _build(node.left, inputs), _build(node.right, inputs)
        return _label(_BINARY[type(node.op)](left, right), node)
    if isinstance(node, ast.Call):
        return _call(node, inputs)
    what = {
        ast.Attribute: "attribute access",
        ast.Subscript: "indexing",
        ast.Lambda: "lambda",
        ast.Compare: "comparison",
        ast.BoolOp: "boolean operator",
    }.get(type(node), f"'{type(node).__name__}' syntax")
    allowed = f"numbers, names, + - * / ** and {', '.join(FUNCTIONS)}()"
    raise ExpressionError(f"{what} is not allowed {_where(node)}; use {allowed}")


def _call(node: ast.Call, inputs: dict[str, Value]) -> Value:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        shown = ast.unparse(node.func)
        raise ExpressionError(f"call of {shown!r} is not allowed {_where(node)}; allowed: {', '.join(FUNCTIONS)}")
    if len(node.args) != 1 or node.keywords:
        raise ExpressionError(f"{node.func.id}() takes exactly one argument {_where(node)}")
    arg = _build(node.args[0], inputs)
    arg = arg if isinstance(arg, Value) else Value(arg)
    return _label(getattr(arg, node.func.id)(), node)


def _label(result: Value | float, node: ast.AST) -> Value | float:
    if isinstance(result, Value) and not result.label:
        result.label = ast.unparse(node)
    return result
