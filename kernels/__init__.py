"""The numba CUDA kernels of the ``cuda`` device, one module per family.

This folder is installed as ``engine._kernels`` (pyproject maps it), never as a top-level
``kernels`` package. Only ``engine.backends.cuda_backend`` imports it, and only when the
``cuda`` device is first used: ``import engine`` never imports numba.

Conventions shared by every module:

* A strided operand is a *view* ``(buffer, offset, strides)``: a flat 1-D device array, the
  element offset of the view's first element, and per-axis element strides (0 on a broadcast
  axis). Shapes and strides are tuples of ints (kernels are specialised on their length).
* Outputs are flat compact device arrays the caller allocated; a kernel never allocates.
* Each public function launches its kernels on the current stream and returns at once.
* Kernels are compiled once per (op, dtype, ndim) and cached by numba; launch configurations
  are computed once per size (``launch.grid``).
"""
