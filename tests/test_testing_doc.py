"""docs/TESTING.md stays true: every code block on the page runs and prints what the page shows.

The page is walked top to bottom, as a reader would follow it:

* a ```python block runs in one shared namespace (cwd and ``sys.path``: a temporary folder);
  the ```text block after it is what it must print. Before the fence, an HTML comment gives
  the block a role: ``<!-- fails: GradcheckError -->`` (it must raise that; its output ends with
  the exception as Python prints it), ``<!-- file: name.py -->`` (written to the folder, not
  run), ``<!-- edit: name.py, the line starting "..." -->`` (that line of the file becomes the
  block's one line), ``<!-- vary: why -->`` before a console block (its e-notation numbers, the
  measured errors of ``engine check``, are not compared);
* a ```console block holds ``$ command`` lines and their output; the ``pytest`` and
  ``python -m engine`` ones run in a subprocess in the folder, on the files the page wrote.

Outputs are compared line by line: a line that is just ``...`` stands for any number of lines,
``...`` inside a line for any text (paths, timings: what varies between machines). Numbers of
4 or more significant digits may differ by one unit in their last digit (the last digit of a
float can round the other way on another CPU), numbers below 1e-8 are rounding noise.
Everything else must be as printed.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

import engine.testing.devices as devices_module
from engine.testing import available_devices

DOC = Path(__file__).resolve().parent.parent / "docs" / "TESTING.md"
DEVICES = ["numpy", "c"]  # the devices the page's outputs were recorded with
MARKER = re.compile(r"^<!--\s*(fails|file|edit|vary|TODO)\b:?\s*(.*?)\s*-->$")
NUMBER = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
TOKEN = re.compile(rf"(\.\.\.)|({NUMBER})|(\s+)")


@dataclass
class Block:
    """One fenced block of the page."""

    lang: str
    text: str
    line: int  # of the opening fence, 1-based
    section: str  # the heading it sits under
    marker: tuple[str, str] | None = None  # ("fails", "GradcheckError"), ("file", "softplus.py"), ...

    def where(self) -> str:
        return f"docs/TESTING.md line {self.line} (```{self.lang} block under '{self.section}')"


def parse_page(text: str) -> list[Block]:
    """The page's fenced blocks in order, each with its heading and the marker comment just before it."""
    blocks: list[Block] = []
    section, pending = "(top)", None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section, pending = line.lstrip("#").strip(), None
        elif line.startswith("```") and line.strip() != "```":
            lang, start, body = line[3:].strip(), i + 1, []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise AssertionError(f"docs/TESTING.md line {start}: the ```{lang} block is never closed")
            blocks.append(Block(lang, "\n".join(body) + "\n", start, section, pending))
            pending = None
        elif MARKER.match(line.strip()):
            m = MARKER.match(line.strip())
            pending = (m.group(1), m.group(2))
        elif line.strip():
            pending = None  # a marker belongs to the block right after it
        i += 1
    return blocks


# ---- comparing outputs ----------------------------------------------------------------------------


def _significant_digits(text: str) -> int:
    mantissa = re.split(r"[eE]", text.lstrip("+-"))[0]
    return len(mantissa.replace(".", "").lstrip("0")) or 1


def numbers_agree(expected: str, actual: str) -> bool:
    """Equal as printed; or, with 4+ significant digits, within one unit of the last one; or both noise."""
    if expected == actual:
        return True
    e, a = float(expected), float(actual)
    if abs(e) < 1e-8 and abs(a) < 1e-8:
        return True
    if _significant_digits(expected) < 4:
        return False
    mantissa, _, exponent = expected.lower().lstrip("+-").partition("e")
    decimals = len(mantissa.partition(".")[2])
    unit = 10.0 ** (int(exponent or 0) - decimals)
    return abs(e - a) <= max(unit * (1 + 1e-9), 1e-9 * abs(e))


def _line_pattern(expected: str) -> tuple[re.Pattern, list[str]]:
    """A regex for one expected line (numbers captured, ``...`` any text) and the numbers it shows."""
    parts, numbers, pos = [], [], 0
    for m in TOKEN.finditer(expected):
        parts.append(re.escape(expected[pos:m.start()]))
        if m.group(1):
            parts.append(".*?")
        elif m.group(2):
            parts.append(f"({NUMBER})")
            numbers.append(m.group(2))
        else:
            parts.append(r"\s+")
        pos = m.end()
    parts.append(re.escape(expected[pos:]))
    return re.compile("".join(parts)), numbers


def line_matches(expected: str, actual: str) -> bool:
    pattern, numbers = _line_pattern(expected.rstrip())
    m = pattern.fullmatch(actual.rstrip())
    return bool(m) and all(numbers_agree(e, a) for e, a in zip(numbers, m.groups()))


def _chunk_at(chunk: list[str], actual: list[str], start: int) -> bool:
    return start + len(chunk) <= len(actual) and all(
        line_matches(e, a) for e, a in zip(chunk, actual[start:start + len(chunk)])
    )


def output_mismatch(expected: str, actual: str) -> str | None:
    """None when ``actual`` is what ``expected`` shows, else a description of the first difference.

    Lines that are just ``...`` split ``expected`` into chunks; each chunk must match consecutive
    lines of ``actual``, in order; the first is anchored at the start and the last at the end
    unless a ``...`` line stands before or after them.
    """
    exp = expected.strip("\n").splitlines()
    act = [line.rstrip() for line in actual.strip("\n").splitlines()]
    chunks: list[list[str]] = [[]]
    for line in exp:
        if line.strip() == "...":
            chunks.append([])
        else:
            chunks[-1].append(line)
    open_start, open_end = not chunks[0], not chunks[-1]
    chunks = [c for c in chunks if c]
    if len(chunks) == 1 and not open_start and not open_end:
        if len(chunks[0]) != len(act):
            return (f"the page shows {len(chunks[0])} lines, the code prints {len(act)}:\n--- page\n{expected}"
                    f"--- printed\n{actual}")
    pos = 0
    for k, chunk in enumerate(chunks):
        anchored = (k == 0 and not open_start)
        last = k == len(chunks) - 1 and not open_end
        if last:
            candidates = [len(act) - len(chunk)]
        elif anchored:
            candidates = [0]
        else:
            candidates = list(range(pos, len(act) - len(chunk) + 1))
        found = next((s for s in candidates if s >= pos and _chunk_at(chunk, act, s)), None)
        if found is None:
            best = _closest(chunk, act, pos)
            return (f"these lines of the page are not in the output (first mismatch: page {chunk[best[0]]!r} vs "
                    f"printed {best[1]!r}):\n--- page\n" + "\n".join(chunk) + f"\n--- printed\n{actual}")
        pos = found + len(chunk)
    return None


def _closest(chunk: list[str], act: list[str], pos: int) -> tuple[int, str]:
    """The first page line of ``chunk`` that no printed line matches, and the printed line most like it."""
    for k, line in enumerate(chunk):
        if not any(line_matches(line, a) for a in act[pos:]):
            words = set(line.split())
            nearest = max(act[pos:] or [""], key=lambda a: len(words & set(a.split())))
            return k, nearest
    return 0, act[pos] if pos < len(act) else ""


# ---- running the page -------------------------------------------------------------------------------


def _printed_exception(err: BaseException) -> str:
    """What Python prints for an uncaught exception, less the traceback's frames (the page shows ``...``)."""
    return "Traceback (most recent call last):\n" + "".join(traceback.format_exception_only(type(err), err))


class Page:
    """Runs the blocks of the page in order in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.namespace: dict = {"__name__": "__testing_doc__"}
        self.written: set[str] = set()
        self.env = dict(os.environ)
        # CI and BUILD_NUMBER make pytest print whole messages in its short summary (it truncates them
        # at a terminal, as the page shows): the page's commands run as a user types them.
        for var in ("ENGINE_TEST_DEVICES", "PYTEST_ADDOPTS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "ENGINE_CHECK_DIR",
                    "CI", "BUILD_NUMBER"):
            self.env.pop(var, None)
        self.env["TMPDIR"] = str(folder)  # drawings land in folder/engine-check
        self.env["NUMBA_ENABLE_CUDASIM"] = "1"  # no cuda column even on a GPU: the page shows numpy and c
        self.env["COLUMNS"] = "80"  # pytest's rulers as printed on the page

    def forget(self, filename: str) -> None:
        """Drop a module the page rewrote, so the next import reads the new file."""
        sys.modules.pop(Path(filename).stem, None)

    def write(self, block: Block) -> None:
        name = block.marker[1]
        (self.folder / name).write_text(block.text, encoding="utf-8")
        self.written.add(name)
        self.forget(name)

    def edit(self, block: Block) -> None:
        m = re.fullmatch(r'(\S+), the line starting "(.+)"', block.marker[1])
        assert m, f"{block.where()}: write the edit marker as <!-- edit: file.py, the line starting \"...\" -->"
        name, start = m.groups()
        path = self.folder / name
        assert name in self.written, f"{block.where()}: edits {name}, which the page has not written yet"
        new = block.text.strip("\n")
        assert "\n" not in new and new.strip().startswith(start), (
            f"{block.where()}: an edit block holds the one new line, starting with {start!r}")
        lines = path.read_text(encoding="utf-8").splitlines()
        hits = [k for k, line in enumerate(lines) if line.strip().startswith(start)]
        assert len(hits) == 1, f"{block.where()}: {name} has {len(hits)} lines starting {start!r}, expected one"
        lines[hits[0]] = new
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.forget(name)

    def run_python(self, block: Block) -> str:
        """Run a block in the shared namespace; what it printed (and the exception, when it must fail)."""
        out = io.StringIO()
        code = compile(block.text, f"docs/TESTING.md:{block.line}", "exec")
        expect = block.marker[1] if block.marker and block.marker[0] == "fails" else None
        try:
            with contextlib.redirect_stdout(out):
                exec(code, self.namespace)
        except Exception as err:  # noqa: BLE001 - compared with the marker below
            if expect is None or type(err).__name__ != expect:
                raise AssertionError(f"{block.where()} raised {type(err).__name__}"
                                     + (f" (the page says it fails with {expect})" if expect else "")
                                     + f":\n{''.join(traceback.format_exception(err))}") from err
            return out.getvalue() + _printed_exception(err)
        assert expect is None, f"{block.where()} should fail with {expect} but ran to the end"
        return out.getvalue()

    def run_console(self, block: Block) -> None:
        """Run each ``$ pytest ...`` / ``$ python -m engine ...`` line and compare with the lines after it."""
        commands: list[tuple[str, list[str]]] = []
        for line in block.text.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                assert commands, f"{block.where()}: a console block starts with a '$ command' line"
                commands[-1][1].append(line)
        for command, expected_lines in commands:
            argv = shlex.split(command)
            if argv[0] == "pip":
                continue  # installing is the reader's step; this environment has the packages
            if argv[0] == "pytest":
                argv = [sys.executable, "-m", "pytest", *argv[1:]]
            elif argv[:3] == ["python", "-m", "engine"]:
                argv = [sys.executable, *argv[1:]]
            else:
                raise AssertionError(f"{block.where()}: no rule to run `{command}` (pytest, python -m engine, pip)")
            expected = "\n".join(expected_lines)
            if block.marker and block.marker[0] == "vary":
                # The error columns of `engine check` depend on the CPU's kernels (float rounding in
                # numpy's and the c device's SIMD code): any e-notation number matches there; the
                # rows, example counts and pass/FAIL must still be as shown.
                expected = re.sub(r"\b\d\.\de[-+]\d\d\b", "...", expected)
            done = subprocess.run(argv, cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=120)
            printed = done.stdout + done.stderr
            wanted_rc = 1 if re.search(r"\bfailed\b|\bFAIL\b", expected) else 0
            assert done.returncode == wanted_rc, (
                f"{block.where()}: `{command}` exited {done.returncode}, the page implies {wanted_rc}:\n{printed}")
            problem = output_mismatch(expected, printed)
            assert problem is None, f"{block.where()}: `{command}` does not print what the page shows: {problem}"
            for name in re.findall(r"drawing: \.\.\./engine-check/(\S+\.svg)", expected):
                drawn = self.folder / "engine-check" / name
                assert drawn.is_file(), f"{block.where()}: the page names the drawing {name}, which was not written"
                svg = drawn.read_text(encoding="utf-8")
                assert "<svg" in svg and "firebrick" in svg, f"{block.where()}: {name} has no node drawn in red"


# ---- the tests ----------------------------------------------------------------------------------------


def blocks() -> list[Block]:
    return parse_page(DOC.read_text(encoding="utf-8"))


def test_the_page_has_the_tutorial_in_it():
    found = blocks()
    langs = [b.lang for b in found]
    assert set(langs) <= {"python", "text", "console"}, f"docs/TESTING.md: unexpected block kinds {set(langs)}"
    markers = {b.marker[0] for b in found if b.marker}
    assert {"fails", "file", "edit"} <= markers
    sections = [b.section for b in found]
    for needed in ("gradcheck", "hint", "property", "device", "check_paths", "python -m engine check"):
        assert any(needed.lower() in s.lower() for s in sections), f"docs/TESTING.md: no section about {needed!r}"
    for k, b in enumerate(found):
        if b.lang == "text":  # every output follows the code that prints it
            before = found[k - 1] if k else None
            assert before and before.lang == "python" and (not before.marker or before.marker[0] == "fails"), (
                f"{b.where()}: a ```text block must come right after the ```python block that prints it")


def test_output_matching_is_strict_where_it_should_be():
    assert output_mismatch("a 0.7310585786300049\nb", "a 0.7310585786300051\nb") is None  # last-digit rounding
    assert output_mismatch("worst 0", "worst 5.05e-18") is None  # noise
    assert output_mismatch("3 evaluations of fn", "4 evaluations of fn") is not None  # integers exact
    assert output_mismatch("rel err 1.72", "rel err 1.73") is not None  # short numbers exact
    assert output_mismatch("analytic 0.731059", "analytic 0.731070") is not None
    assert output_mismatch("1 failed in ...s", "1 failed in 0.72s") is None
    assert output_mismatch("1 failed in ...s", "1 passed in 0.72s") is not None
    assert output_mismatch("head\n...\ntail", "head\nx\ny\ntail") is None
    assert output_mismatch("head\ntail", "head\nx\ntail") is not None  # no '...': every line shown
    assert output_mismatch("...\nmiddle\n...", "a\nmiddle\nb") is None
    assert output_mismatch("...\nmiddle\n...", "a\nmuddle\nb") is not None


def test_every_block_of_the_page_runs_and_prints_what_the_page_shows(tmp_path, monkeypatch):
    if available_devices() != DEVICES and set(DEVICES) - set(available_devices()):
        pytest.skip(f"the page's outputs were recorded on devices {DEVICES}; here: {available_devices()}")
    monkeypatch.setattr(devices_module, "available_devices", lambda: list(DEVICES))  # no cuda column on a GPU
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ENGINE_CHECK_DIR", str(tmp_path / "engine-check"))
    page = Page(tmp_path)
    found = blocks()
    try:
        for k, block in enumerate(found):
            kind = block.marker[0] if block.marker else ""
            if block.lang == "python" and kind == "file":
                page.write(block)
            elif block.lang == "python" and kind == "edit":
                page.edit(block)
            elif block.lang == "python":
                printed = page.run_python(block)
                shown = found[k + 1] if k + 1 < len(found) and found[k + 1].lang == "text" else None
                if shown is None:
                    assert not printed, f"{block.where()} prints something the page does not show:\n{printed}"
                else:
                    problem = output_mismatch(shown.text, printed)
                    assert problem is None, f"{block.where()} does not print what the page shows: {problem}"
            elif block.lang == "console" and kind != "TODO":
                page.run_console(block)
    finally:
        for name in page.written:
            page.forget(name)
