"""``python -m engine``: the command line.

    python -m engine demo                        # pictures and a training run in ./engine-demo/
    python -m engine graph "(x + y) * z" x=-2 y=5 z=-4 -o f.svg [--steps] [--html f.html]
    python -m engine serve [--port N] [--open]  # the playground on http://127.0.0.1:N/
    python -m engine train {xor,linear,polynomial,logistic,softmax,digits} [--device D] [--epochs N] [--lr LR]
                           [--out DIR]                       # pictures in ./engine-train/TASK/
    python -m engine check [--devices numpy,c] [--families F,..] [--ops tanh,..] [--examples N] [--profile ci]
                           [--seed N]
                           [--html report.html]              # the property suite: exit 1 on a failure
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine.core.serialization import check_output_dir, check_output_file
from engine.errors import EngineError


def _graph(args: argparse.Namespace) -> int:
    from engine import viz
    from engine.scalar.expression import parse_assignments, parse_expression
    from engine.viz.graph import fmt
    from engine.viz.renderer import output_format

    values = parse_assignments(args.assignments)
    if args.output:  # a bad -o fails before any work, not after it
        check_output_file(args.output, "-o", create=False)
        output_format(args.output)
    if args.html:
        check_output_file(args.html, "--html", create=False)
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
    if args.html:
        written = viz.backprop_html(root, args.html, title=f"Backward through {args.name} = {args.expr}, step by step")
        print(f"wrote {written}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from engine.apps.playground import serve

    serve(args.port, open_browser=args.open)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from engine.apps.demo import run_demo

    check_output_dir(args.out, "--out", create=False)
    run_demo(args.out)
    return 0


def device_report() -> list[str]:
    """One line per device: available, or why not; the GPU and its compute capability, numba and
    CUDA versions; for the c device its build and thread count."""
    import platform

    import numpy as np

    from engine.backends import c_available, default_device_name, get_backend

    lines = [f"python {platform.python_version()}, numpy {np.__version__}; new tensors go to "
             f"{default_device_name()!r} (the default 'cpu')"]
    lines.append("numpy: available (the reference)")
    ok, why = c_available()
    if ok:
        from engine.backends.c_backend import num_threads

        lines.append(f"c: available: {get_backend('c').build_info}; {num_threads()} thread(s)")
    else:
        lines.append(f"c: unavailable: {why}")
    from engine import cuda

    reason = cuda.why_unavailable()
    if reason is not None:
        lines.append(f"cuda: unavailable: {reason}")
    else:
        import numba

        from engine.backends.cuda_backend import SIMULATOR

        if SIMULATOR:
            lines.append(f"cuda: available on numba's simulator (NUMBA_ENABLE_CUDASIM=1; numba {numba.__version__})")
        else:
            from numba import cuda as numba_cuda

            major, minor = cuda.get_device_capability()
            runtime = ".".join(map(str, numba_cuda.runtime.get_version()))
            lines.append(f"cuda: available: {cuda.get_device_name()}, compute capability {major}.{minor}; "
                         f"numba {numba.__version__}, CUDA runtime {runtime}")
    return lines


def _info(args: argparse.Namespace) -> int:
    for line in device_report():
        print(line)
    return 0


TRAIN_TASKS = ("xor", "linear", "polynomial", "logistic", "softmax", "digits")


def _train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.apps import plots, training
    from engine.backends import get_backend, resolve_name
    from engine.errors import EngineValueError

    if args.task not in TRAIN_TASKS:
        raise EngineValueError(f"unknown task {args.task!r}; choose one of {', '.join(TRAIN_TASKS)}")
    device = resolve_name(args.device)  # a bad or unavailable device fails here, in one line
    get_backend(device)
    kwargs: dict = {"device": device}
    if args.epochs is not None:
        kwargs["epochs"] = args.epochs
    if args.task == "polynomial":
        # The lecture's SGD(lr=0.001) barely moves this net in 5000 epochs (examples/polynomial_fit.py shows it);
        # the command trains the same net and loss with Adam so the picture shows a fit.
        kwargs.update(optimizer="adam", lr=0.1)
        print("polynomial: lecture 000's 1-10-6-1 sigmoid net and L1 loss, with Adam (lr=0.1) in place of the "
              "lecture's SGD(lr=0.001), which barely moves it")
    if args.lr is not None:
        kwargs["lr"] = args.lr
    # Checked before training (made when the pictures are drawn), so a bad --out fails now, not after every epoch.
    out = check_output_dir(args.out if args.out else Path("engine-train") / args.task, "--out", create=False)
    print(f"training {args.task} on device {device!r}")
    history = training.TASKS[args.task](**kwargs)
    metric = history.get("accuracy")
    print(f"final loss {history['loss'][-1]:.6g}" + (f", accuracy {metric:.2%}" if metric is not None else ""))
    try:
        written = plots.draw_history(args.task, history, out)
    except plots.PlotsUnavailable as exc:
        print(f"no pictures: {exc}")
        return 0
    print(f"\nWrote {len(written)} files into {out}/:")
    for path in written:
        print(f"  {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    try:
        import hypothesis  # noqa: F401
    except ModuleNotFoundError:
        raise EngineError("hypothesis is not installed; pip install 'backprop-engine[test]' (or hypothesis)") from None
    from engine.testing.strategies import PROFILES
    from engine.testing.suite import check_devices, check_families, check_ops, row_line, run_suite, table_header

    # Every argument is checked before the suite runs, not after it.
    devices = check_devices(args.devices, "check")
    families = check_families(args.families)
    chosen = check_ops(args.ops, families)
    if chosen is not None:
        families = [f for f in families if chosen.get(f)]
    examples = args.examples if args.examples is not None else PROFILES[args.profile]
    if examples < 1:
        raise EngineError(f"check: --examples must be a positive int, got {examples}")
    if args.html:
        check_output_file(args.html, "--html", create=False)
    print(f"engine check: profile {args.profile}, {examples} examples per family and device; devices "
          f"{', '.join(devices)} (reference numpy); families {', '.join(families)}"
          + (f"; seed {args.seed}" if args.seed is not None else ""))
    print(table_header())
    result = run_suite(devices, families, examples, args.profile, args.seed,
                       progress=lambda row: print(row_line(row), flush=True), ops=args.ops)
    print(result.summary())
    for row in result.failures():
        print(f"\n{row.family} on {row.device}:\n{row.failure}")
    if args.html:
        check_output_file(args.html, "--html")  # makes its folder
        with open(args.html, "w", encoding="utf-8") as f:
            f.write(result.to_html())
        print(f"wrote {args.html}")
    return 0 if result.passed else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m engine", description="backprop-engine: see the chain rule, then run it fast."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="what this machine offers: each device, available or why not")
    info.set_defaults(run=_info)

    demo = sub.add_parser("demo", help="draw the lectures' graphs and train XOR into ./engine-demo/")
    demo.add_argument("--out", default="engine-demo", help="folder to write into (default: engine-demo)")
    demo.set_defaults(run=_demo)

    graph = sub.add_parser("graph", help="differentiate a scalar expression and draw its graph")
    graph.add_argument("expr", help='e.g. "(x + y) * z"; numbers, names, + - * / **, exp log tanh sigmoid relu')
    graph.add_argument("assignments", nargs="*", metavar="name=value", help="input values, e.g. x=-2")
    graph.add_argument("-o", "--output", help="write the drawing (.svg, .png, .pdf, .dot) or its data (.json)")
    graph.add_argument("--steps", action="store_true", help="print each chain-rule step")
    graph.add_argument("--name", default="f", help="name of the output in printouts (default: f)")
    graph.add_argument("--html", metavar="PAGE.html",
                       help="write the step-through page: one self-contained HTML file (next/previous, arrow keys)")
    graph.set_defaults(run=_graph)

    serve = sub.add_parser("serve", help="a local playground page: type an expression and step through backward; "
                                         "watch an MLP learn XOR (127.0.0.1 only)")
    serve.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default: 8000; 0: any free port)")
    serve.add_argument("--open", action="store_true", help="open the page in the web browser")
    serve.set_defaults(run=_serve)

    train = sub.add_parser("train", help="train one of the lectures' models with engine.nn and draw it")
    train.add_argument("task", metavar="TASK", help=f"one of: {', '.join(TRAIN_TASKS)}")
    train.add_argument("--device", default="cpu", help="cpu (default), numpy, c or cuda")
    train.add_argument("--epochs", type=int, help="number of epochs (default: the recipe's)")
    train.add_argument("--lr", type=float, help="learning rate (default: the recipe's)")
    train.add_argument("--out", help="folder for the pictures (default: engine-train/TASK)")
    train.set_defaults(run=_train)

    check = sub.add_parser("check", help="run the property suite (every op family against central differences "
                                         "and the numpy device) on the devices here; exit 1 on any failure")
    check.add_argument("--devices", help="comma-separated devices (default: every device here: numpy, c when "
                                         "built, cuda on a GPU)")
    check.add_argument("--families", help="comma-separated op families (default: all: expressions, elementwise, "
                                          "binary, reductions, linalg, shape, nn, programs)")
    check.add_argument("--ops", help="comma-separated ops to check alone (e.g. tanh,matmul,softmax): only the "
                                     "families that hold them run")
    check.add_argument("--examples", type=int, help="examples per family and device, shared by the family's ops "
                                                    "(each at least 1; default: the profile's)")
    check.add_argument("--profile", default="ci", choices=["dev", "ci", "thorough"],
                       help="dev: 20 examples, ci: 100 (the same ones every run; default), thorough: 1000")
    check.add_argument("--seed", type=int, help="draw the examples of this seed (dev and thorough draw new ones "
                                                "each run otherwise)")
    check.add_argument("--html", metavar="REPORT.html", help="also write the table and each failure's drawing")
    check.set_defaults(run=_check)
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
