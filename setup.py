"""Build script: metadata lives in pyproject.toml; this file adds the C library.

``csrc/`` is compiled through cffi (``cffi_modules``) into ``engine._cengine``, the
``c`` device. Without a working C compiler the install still succeeds with the numpy
device alone, and ``device="c"`` then says in one line why it is unavailable.
"""

from setuptools import find_packages, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Build the C extension, but never fail the install because of it."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler at all, or a broken toolchain
            self._skip(exc)

    def build_extension(self, ext) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._skip(exc)

    @staticmethod
    def _skip(exc: Exception) -> None:
        print(
            "WARNING: backprop-engine's C library (device='c') was not built: "
            f"{type(exc).__name__}: {exc}. The numpy device works; install a C compiler "
            "and reinstall to get the c device."
        )


setup(
    # kernels/ (the numba CUDA kernels) ships inside the package as engine._kernels, never as a
    # top-level `kernels` that could collide in site-packages.
    packages=find_packages(include=["engine", "engine.*"]) + ["engine._kernels"],
    package_dir={"engine._kernels": "kernels"},
    cffi_modules=["csrc/build_ffi.py:ffibuilder"],
    cmdclass={"build_ext": OptionalBuildExt},
)
