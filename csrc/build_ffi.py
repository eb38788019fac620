"""cffi build script for engine._cengine (out-of-line API mode).

setup.py uses it as ``cffi_modules=["csrc/build_ffi.py:ffibuilder"]``.
Run it directly for a quick in-place check (the extension is written under
/tmp/engine-cffi-build, never into engine/):

    python csrc/build_ffi.py

The cdef is read from engine.h itself, between the CFFI_BEGIN and CFFI_END
markers, so the header stays the single source of truth.

Environment:
    ENGINE_NATIVE=1      add -march=native (not portable; off by default)
    ENGINE_NO_OPENMP=1   do not try -fopenmp
"""
import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import cffi

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "engine.h")


def _rel(path):
    """Path relative to the working directory when below it (setuptools
    prefers relative source paths), else absolute."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def read_cdef(header=HEADER):
    """The declarations between the CFFI markers of engine.h."""
    with open(header, encoding="utf-8") as f:
        text = f.read()
    start = text.index("/* CFFI_BEGIN */") + len("/* CFFI_BEGIN */")
    end = text.index("/* CFFI_END */")
    return text[start:end]


def _compiler():
    """The C compiler command Python extensions are built with."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return cc.split()


def compiler_accepts(flags):
    """True when the C compiler builds and links a tiny OpenMP program with
    `flags`.  False, never an exception, when there is no compiler at all."""
    tmp = tempfile.mkdtemp(prefix="engine-ompcheck-")
    try:
        src = os.path.join(tmp, "t.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void){int s=0;\n"
                    "#pragma omp parallel for reduction(+:s)\n"
                    "for(int i=0;i<4;i++) s+=i;\nreturn omp_get_max_threads()>0 && s==6 ? 0 : 1;}\n")
        cmd = _compiler() + flags + [src, "-o", os.path.join(tmp, "t.out")]
        res = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        return res.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build_flags():
    """(extra_compile_args, extra_link_args) for this platform."""
    if sys.platform == "win32":                      # MSVC
        return ["/O2", "/openmp"] if not os.environ.get("ENGINE_NO_OPENMP") else ["/O2"], []
    compile_args = ["-O3", "-std=gnu11", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"]
    link_args = []
    if os.environ.get("ENGINE_NATIVE") == "1":
        compile_args.append("-march=native")
    if not os.environ.get("ENGINE_NO_OPENMP") and compiler_accepts(["-fopenmp"]):
        compile_args.append("-fopenmp")
        link_args.append("-fopenmp")
    return compile_args, link_args


SOURCES = sorted(glob.glob(os.path.join(HERE, "*.c")))


def make_builder(relative=True):
    """An FFI with the cdef from engine.h and every csrc/*.c as a source.
    relative=True gives source paths relative to the working directory (what
    setuptools wants when setup.py runs from the repository root)."""
    fix = _rel if relative else (lambda p: p)
    builder = cffi.FFI()
    builder.cdef(read_cdef())
    compile_args, link_args = build_flags()
    builder.set_source(
        "engine._cengine",
        '#include "engine.h"',
        sources=[fix(s) for s in SOURCES],
        include_dirs=[fix(HERE)],
        depends=[fix(p) for p in sorted(glob.glob(os.path.join(HERE, "*.h")))],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )
    return builder


ffibuilder = make_builder()

if __name__ == "__main__":
    # ffibuilder.compile() changes directory to tmpdir, so use absolute paths here.
    out = os.path.join(tempfile.gettempdir(), "engine-cffi-build")
    os.makedirs(out, exist_ok=True)
    builder = make_builder(relative=False)
    print("compile args:", build_flags())
    path = builder.compile(tmpdir=out, verbose=True)
    print("built", path)
