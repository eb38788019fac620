"""Build script: metadata lives in pyproject.toml; this file adds the C extension.

The C library in ``csrc/`` is compiled through cffi (``cffi_modules``) into
``engine._cengine``. (Added with the ``c`` device.)
"""

from setuptools import setup

setup()
