"""Tensor methods for elementwise math and reductions beyond the basics (``x.sin()``, ``x.std()``...).

``MathMethods`` is a mixin of ``Tensor``: each method checks its arguments, promotes dtypes and
applies one op from ``engine.ops``; the derivative lives in the op.
"""

from __future__ import annotations


class MathMethods:
    """Elementwise math and reductions; mixed into ``engine.core.tensor.Tensor``."""

    __slots__ = ()
