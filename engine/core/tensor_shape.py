"""Tensor methods that move or select data (``x.flip()``, ``x.index_select()``, ``x.chunk()``...).

``ShapeMethods`` is a mixin of ``Tensor``: each method checks its arguments and is written with
the views and ops the tensor already has, or one op from ``engine.ops``.
"""

from __future__ import annotations


class ShapeMethods:
    """Data movement and selection; mixed into ``engine.core.tensor.Tensor``."""

    __slots__ = ()
