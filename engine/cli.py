"""``python -m engine``: the command line.

    python -m engine demo                        # pictures and a training run in ./engine-demo/
    python -m engine graph "(x + y) * z" x=-2 y=5 z=-4 -o f.svg [--steps]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine.errors import EngineError


def _graph(args: argparse.Namespace) -> int:
    from engine import viz
    from engine.expr import parse_assignment, parse_expression
    from engine.viz.steps import fmt

    values = dict(parse_assignment(a) for a in args.assignments)
    root, inputs = parse_expression(args.expr, values)
    root.label = args.name
    root.backward()
    print(f"{args.name} = {args.expr} = {fmt(root.data)}")
    for name, v in inputs.items():
        print(f"  {name} = {fmt(v.data):>8}   ∂{args.name}/∂{name} = {fmt(v.grad)}")
    if args.steps:
        print(viz.format_steps(root))
    if args.output:
        written = viz.render(root, args.output)
        print(f"wrote {written}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from engine.demo import run_demo

    run_demo(args.out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m engine", description="backprop-engine: see the chain rule, then run it fast."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="draw the lectures' graphs and train XOR into ./engine-demo/")
    demo.add_argument("--out", default="engine-demo", help="folder to write into (default: engine-demo)")
    demo.set_defaults(run=_demo)

    graph = sub.add_parser("graph", help="differentiate a scalar expression and draw its graph")
    graph.add_argument("expr", help='e.g. "(x + y) * z"; numbers, names, + - * / **, exp log tanh sigmoid relu')
    graph.add_argument("assignments", nargs="*", metavar="name=value", help="input values, e.g. x=-2")
    graph.add_argument("-o", "--output", help="write the drawing (.svg, .png, .pdf or .dot)")
    graph.add_argument("--steps", action="store_true", help="print each chain-rule step")
    graph.add_argument("--name", default="f", help="name of the output in printouts (default: f)")
    graph.set_defaults(run=_graph)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except EngineError as exc:
        # A user mistake: one line, no traceback.
        print(f"python -m engine {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
