"""The ``c`` device as a device: build info, availability, the message when it is missing, and
every op family computing what the numpy reference computes (``engine.testing.assert_devices_agree``)."""

import subprocess
import sys

import numpy as np
import pytest

import engine
import engine.nn.functional as F
from engine.backends import c_available
from engine.testing import assert_devices_agree

needs_c = pytest.mark.skipif(not c_available()[0], reason="the C library is not built: " + c_available()[1])


@needs_c
def test_cpu_means_the_c_library_when_built():
    assert str(engine.tensor([1.0], device="cpu").device) == "c"
    assert engine.device("cpu") == "c"


def _normal(*shape: int) -> np.ndarray:
    return np.random.default_rng(sum(shape) * 7 + len(shape)).standard_normal(shape)


# Each op family the C library has kernels for: (fn, inputs). Arrays become leaves on each device
# (float ones require grad); the tensors are integer indices and targets, passed to every device.
FAMILIES = {
    "broadcast arithmetic": (lambda a, b: (a * b - a / (b * b + 1)) ** 2 + 3 - b, (_normal(3, 1, 4), _normal(2, 4))),
    "elementwise functions": (
        lambda a: a.tanh() + a.sigmoid() * a.exp() - (a * a + 1).log() + (a * a + 0.5).sqrt() + a.relu() - a.abs(),
        (_normal(4, 5),),
    ),
    "reductions": (lambda a: (a.sum(1), a.mean((0, 2)), a.max(-1)[0], a.min(0)[0], a.sum()), (_normal(3, 4, 5),)),
    "softmax": (lambda a: (a.softmax(-1), a.log_softmax(0)), (_normal(4, 6),)),
    "batched matmul": (lambda a, b: a @ b, (_normal(2, 1, 3, 4), _normal(3, 4, 5))),
    "views": (lambda a: (a.transpose(0, 1) @ a).reshape(-1)[::2] * a.T[1:, :].sum(), (_normal(5, 3),)),
    "linear and losses": (
        lambda x, w, b, t: (F.linear(x, w, b).relu(), F.cross_entropy(F.linear(x, w, b), t),
                            F.mse_loss(x @ w.T, F.linear(x, w, b))),
        (_normal(4, 3), _normal(3, 3), _normal(3), np.array([2, 0, 1, 1])),
    ),
    "indexing and joining": (
        lambda a, b, i: (engine.cat([a, b], 0)[i], engine.where(a > 0, a, b * 2), a.clamp(-0.5, 0.5)),
        (_normal(3, 4), _normal(3, 4), np.array([2, 0, 5, 2])),
    ),
}


@needs_c
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_the_c_device_computes_what_numpy_computes(family, dtype):
    fn, inputs = FAMILIES[family]
    inputs = [x.astype(dtype) if x.dtype.kind == "f" else x for x in inputs]
    report = assert_devices_agree(fn, *inputs, devices=["numpy", "c"])  # outputs, then every float input's gradient
    floats = sum(x.dtype.kind == "f" for x in inputs)
    assert len([c for c in report.comparisons if c.what.startswith("gradient")]) == floats
    assert report.worst_rel_error("c") < (1e-5 if dtype == "float32" else 1e-12)


@needs_c
def test_build_info_names_the_kernel_set_and_threads():
    from engine.backends import get_backend
    from engine.backends.c_backend import isa, num_threads, supported_isas

    info = get_backend("c").build_info
    assert f"kernels: {isa()}" in info and "openmp" in info
    assert isa() in supported_isas() and supported_isas()[0] == "generic"
    assert num_threads() >= 1


def test_missing_c_library_is_one_clear_line():
    # A fresh interpreter where the compiled module cannot be imported (as after an install
    # without a C compiler): the numpy device works, device="c" names the reason.
    code = (
        "import sys; sys.modules['engine._cengine'] = None\n"
        "import engine\n"
        "print(engine.tensor([1.0, 2.0]).device)\n"
        "try:\n"
        "    engine.tensor([1.0], device='c')\n"
        "except engine.DeviceError as exc:\n"
        "    print('ERROR', exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert lines[0] == "numpy"  # "cpu", the default, falls back to the numpy reference
    assert lines[1].startswith("ERROR device 'c' is unavailable: the C library engine._cengine is not built")
    assert "pip install -e ." in lines[1] and len(lines) == 2


@needs_c
def test_fused_kernels_refuse_shapes_they_would_overrun():
    # The backend guards its own C calls, not only the user-facing functions above it.
    import numpy as np

    from engine.backends import get_backend

    c = get_backend("c")
    x, w = np.zeros((2, 3), np.float32), np.zeros((4, 5), np.float32)
    with pytest.raises(engine.ShapeError, match=r"linear: shapes x \(2, 3\), weight \(4, 5\)"):
        c.linear_forward(x, w, None, None)
    w = np.zeros((4, 3), np.float32)
    with pytest.raises(engine.ShapeError, match=r"bias \(3,\)"):
        c.linear_forward(x, w, np.zeros(3, np.float32), "relu")
    with pytest.raises(engine.ShapeError, match=r"output \(2, 5\)"):
        c.linear_backward(x, w, np.zeros((2, 5), np.float32), np.zeros((2, 5), np.float32), None)
    p = np.zeros((3, 4), np.float32)
    with pytest.raises(engine.ShapeError, match=r"sgd update: state of shape \(3,\)"):
        c.sgd_update(p, p.copy(), np.zeros(3, np.float32), 0.1, 0.9, 0.0, 0.0, False, False)
    with pytest.raises(engine.ShapeError, match=r"adam update: .* dtype float64 for a parameter of shape \(3, 4\)"):
        c.adam_update(p, p.copy(), np.zeros((3, 4)), np.zeros((3, 4), np.float32), 0.1, 0.9, 0.99, 1e-8, 0.0, 1)


@needs_c
def test_the_c_backend_is_on_the_contract_with_an_explicit_reference():
    from engine.backends import get_backend
    from engine.backends.base import Backend
    from engine.backends.numpy_backend import NumpyBackend

    c = get_backend("c")
    assert isinstance(c, Backend) and not isinstance(c, NumpyBackend)
    assert isinstance(c.reference, NumpyBackend)  # what C does not do, named where it is handed over
    for gone in ("unary_backward", "index_backward"):  # derivatives live in engine/ops now
        assert not hasattr(c, gone)


def _spy(monkeypatch, backend, name: str) -> list:
    """Record the calls of ``backend.name`` (still running it)."""
    calls: list = []
    method = getattr(backend, name)
    monkeypatch.setattr(backend, name, lambda *args: calls.append(args) or method(*args))
    return calls


@needs_c
def test_op_codes_cover_the_contract_and_a_name_without_one_falls_back(monkeypatch):
    import numpy as np

    from engine.backends import base, c_backend, get_backend

    for names, table in (
        (base.UNARY, c_backend._UNARY_CODE), (base.BINARY, c_backend._BINARY_CODE),
        (base.COMPARE, c_backend._COMPARE_CODE), (base.ACTIVATIONS, c_backend._ACT_CODE),
        (("squared", "abs"), c_backend._LOSS_CODE),
    ):
        # Every C code names a contract op; unary names without one (sin, erf...) fall back to numpy.
        complete = names is not base.UNARY
        assert (set(table) == set(names) if complete else set(table) <= set(names)), table
        assert len(set(table.values())) == len(table), table
    c = get_backend("c")
    x = np.array([[-1.5, 0.0, 2.0]], np.float32)
    # with a code: C computes, the reference is not asked
    calls = _spy(monkeypatch, c.reference, "unary")
    assert c.unary("sign", x).tolist() == [[-1.0, 0.0, 1.0]] and not calls
    # without: the reference answers, the same numbers
    monkeypatch.delitem(c_backend._UNARY_CODE, "sign")
    assert c.unary("sign", x).tolist() == [[-1.0, 0.0, 1.0]] and len(calls) == 1
    monkeypatch.delitem(c_backend._BINARY_CODE, "maximum")
    calls = _spy(monkeypatch, c.reference, "binary")
    assert c.binary("maximum", x, 0.5).tolist() == [[0.5, 0.5, 2.0]] and len(calls) == 1
    monkeypatch.delitem(c_backend._COMPARE_CODE, "lt")
    calls = _spy(monkeypatch, c.reference, "compare")
    assert c.compare("lt", x, 0.0).tolist() == [[True, False, False]] and len(calls) == 1
    # a fused path without its activation or loss code: the composed default forward, no fused backward
    w = np.ones((2, 3), np.float32)
    want = np.tanh(x @ w.T)
    monkeypatch.delitem(c_backend._ACT_CODE, "tanh")
    np.testing.assert_allclose(c.linear_forward(x, w, None, "tanh"), want, rtol=1e-6)
    assert c.linear_backward(x, w, want, np.ones_like(want), "tanh") is NotImplemented
    monkeypatch.delitem(c_backend._LOSS_CODE, "abs")
    diff, loss = c.difference_loss("abs", x, np.zeros_like(x), True)
    assert float(loss) == np.float32(3.5 / 3)
    assert c.difference_loss_backward("abs", diff, np.array(1.0, np.float32), True) is NotImplemented


@needs_c
def test_index_kernels_run_in_c_and_refuse_indices_out_of_range(monkeypatch):
    # C writes at out + index * stride: an index outside the array would write outside it.
    import numpy as np

    from engine.backends import get_backend

    c = get_backend("c")
    x = np.arange(12, dtype=np.float64).reshape(3, 4)
    reference_calls = {name: _spy(monkeypatch, c.reference, name) for name in ("gather", "scatter_add", "index_add")}
    assert c.gather(x, 1, np.array([[3], [0], [1]])).tolist() == [[3.0], [4.0], [9.0]]
    assert c.scatter_add((2, 4), 1, np.array([[3, 3]]), np.ones((1, 2))).tolist() == [[0, 0, 0, 2], [0, 0, 0, 0]]
    assert c.index_add((3, 2), (np.array([2, 2]),), np.ones((2, 2))).tolist() == [[0, 0], [0, 0], [2, 2]]
    assert reference_calls == {"gather": [], "scatter_add": [], "index_add": []}  # C did all three
    c.index_add((3, 2), (np.array([2, 2]), np.array([1, 0])), np.ones(2))  # a key C does not take
    assert len(reference_calls["index_add"]) == 1
    bad = [
        (lambda: c.gather(x, 1, np.array([[4]] * 3)), r"^gather: index 4 is out of bounds for a dimension of size 4"),
        (lambda: c.gather(x, 0, np.array([[-1, 0, 0, 0]])), r"^gather: index -1 is out of bounds"),
        (lambda: c.scatter_add((3, 4), 1, np.array([[5]]), np.ones((1, 1))), r"^scatter_add: index 5 is out of"),
        (lambda: c.index_add((3, 4), (np.array([3]),), np.ones((1, 4))), r"^index: index 3 is out of bounds"),
        (lambda: c.cross_entropy(x, np.array([0, 4, 1])), r"^cross_entropy: target 4 is out of bounds"),
        (lambda: c.cross_entropy_backward(x, np.array([0, -2, 1]), 1.0), r"^cross_entropy backward: target -2"),
    ]
    for call, message in bad:
        with pytest.raises(engine.EngineValueError, match=message):
            call()
    with pytest.raises(engine.ShapeError, match=r"^gather: index of shape \(2, 2\) does not fit input of shape"):
        c.gather(x, 1, np.zeros((2, 2), np.int64))
    with pytest.raises(engine.ShapeError, match=r"^scatter_add: index of shape \(4, 1\) does not fit output"):
        c.scatter_add((3, 4), 1, np.zeros((4, 1), np.int64), np.ones((4, 1)))
