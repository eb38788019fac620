"""Turning DOT text into pictures: the system ``dot``, else ``graphviz-pure``, else the DOT file.

``graphviz-pure`` (``pip install 'backprop-engine[render]'``) is a pip-installable port of
Graphviz's ``dot`` program with wheels for every platform; it speaks the same command line,
so both are driven the same way. It draws SVG and PNG; PDF needs the system Graphviz.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
import warnings
from pathlib import Path

from engine.core.serialization import PathError, check_output_file
from engine.errors import EngineError, EngineValueError

FORMATS = ("svg", "png", "pdf", "dot", "json")  # json: the graph model as data, not a picture
INSTALL_HINT = (
    "install a renderer with `pip install 'backprop-engine[render]'` (SVG, PNG) "
    "or your system's Graphviz package (`apt-get install graphviz`, `brew install graphviz`)"
)
# ENGINE_RENDERER=auto|dot|graphviz-pure|none picks the renderer (auto: dot, else graphviz-pure).
_ENV_RENDERER = "ENGINE_RENDERER"


class RendererMissingWarning(UserWarning):
    """No program could draw the picture, so only the ``.dot`` text was written."""


class RenderError(EngineError, RuntimeError):
    """The renderer ran and failed."""


def _which(program: str) -> str | None:
    """``program`` on PATH, else in this interpreter's scripts folder (an unactivated venv)."""
    return shutil.which(program) or shutil.which(program, path=sysconfig.get_path("scripts"))


def find_renderer(fmt: str = "svg") -> list[str] | None:
    """The command that can draw ``fmt``: the system ``dot``, else ``graphviz-pure``, else None.

    The environment variable ``ENGINE_RENDERER`` (``dot``, ``graphviz-pure`` or ``none``)
    restricts the choice; the tests use it to exercise each path.
    """
    choice = os.environ.get(_ENV_RENDERER, "auto")
    if choice in ("auto", "dot"):
        system = _which("dot")
        if system:
            return [system]
    if choice in ("auto", "graphviz-pure") and fmt in ("svg", "png"):
        pure = _which("graphviz-pure")
        if pure:
            return [pure]
    return None


def pipe(source: str, fmt: str = "svg") -> bytes:
    """Render DOT ``source`` to ``fmt`` bytes, or raise RenderError saying how to get a renderer."""
    command = find_renderer(fmt)
    if command is None:
        raise RenderError(f"render: no Graphviz program can draw {fmt}; {INSTALL_HINT}")
    result = subprocess.run(
        [*command, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, check=False
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"render: {command[0]} failed: {message[0] if message else 'no message'}")
    return result.stdout


def write(source: str, path: str | os.PathLike) -> Path:
    """Write DOT ``source`` to ``path`` in the format its extension names.

    ``.dot`` writes the text. ``.svg``/``.png``/``.pdf`` render it; when no renderer is
    installed, the ``.dot`` text is written next to ``path`` instead, a one-line warning
    says how to install one, and the path of the ``.dot`` file is returned.
    """
    path = check_output_file(path, "render")  # one-line errors for folders, files in the way, no permission
    fmt = output_format(path)
    if fmt == "json":  # the model's JSON is not made from DOT text (Graphviz's own -Tjson is another schema)
        raise EngineValueError(f"render: {path.name!r} asks for JSON; write it with engine.viz.render or to_json")
    if fmt != "dot" and find_renderer(fmt) is None:
        dot_path = path.with_suffix(".dot")
        _write_bytes(dot_path, source.encode("utf-8"))
        warnings.warn(
            f"render: no program to draw {path.name}; wrote {dot_path} instead — {INSTALL_HINT}",
            RendererMissingWarning,
            stacklevel=2,
        )
        return dot_path
    _write_bytes(path, source.encode("utf-8") if fmt == "dot" else pipe(source, fmt))
    return path


def write_text(text: str, path: str | os.PathLike) -> Path:
    """Write ``text`` (UTF-8) to ``path``, with the same one-line errors as :func:`write`."""
    path = check_output_file(path, "render")
    _write_bytes(path, text.encode("utf-8"))
    return path


def output_format(path: str | os.PathLike) -> str:
    """The format ``path``'s extension names (``svg``, ``png``, ``pdf``, ``dot``), or a one-line error."""
    fmt = Path(path).suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise EngineValueError(
            f"render: cannot tell the format from {Path(path).name!r}; use one of "
            + ", ".join("." + f for f in FORMATS)
        )
    return fmt


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise PathError(f"render: cannot write {str(path)!r}: {exc.strerror or exc}") from None
