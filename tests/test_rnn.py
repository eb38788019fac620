"""engine.nn's recurrent layers (RNN, LSTM, GRU and their cells) against PyTorch on every device.

PyTorch's weights are copied into the engine's module; then the outputs, the final states and the gradients of
the input, of the initial states and of every parameter (of a fixed random projection of all the outputs, so that
each element counts differently) must agree, in float32 and float64, over layers, directions, ``batch_first``,
projections and unbatched input. A hypothesis gradcheck checks the cells' backward against central differences,
and the parameters' names, shapes, order, initialisation and repr, and the errors, are PyTorch's.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.nn.rnn as rnn
from engine.backends import default_device_name
from engine.testing import gradcheck, strategies

TOL = {"float64": (1e-9, 1e-11), "float32": (1e-4, 1e-5)}
DTYPES = ["float64", "float32"]
OURS = {"RNN": rnn.RNN, "LSTM": rnn.LSTM, "GRU": rnn.GRU,
        "RNNCell": rnn.RNNCell, "LSTMCell": rnn.LSTMCell, "GRUCell": rnn.GRUCell}


@pytest.fixture(autouse=True)
def _every_device(on_each_device):
    """Every test here runs on each device in turn (numpy, C when built, the opaque test backend, cuda on a GPU)."""
    return on_each_device


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch", reason="PyTorch is the reference for these checks; install torch")
    torch.set_num_threads(1)  # tiny tensors: the thread pool costs more than the arithmetic
    return torch


def _host(t) -> np.ndarray:
    return t.detach().to("numpy").numpy() if isinstance(t, engine.Tensor) else t.detach().numpy()


def _close(actual, expected, dtype, what):
    rtol, atol = TOL[dtype]
    a, e = _host(actual), _host(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def _flat(result) -> list:
    """(output, h_n) or (output, (h_n, c_n)) or a cell's h or (h, c) as a flat list of tensors."""
    if not isinstance(result, tuple):
        return [result]
    out = []
    for item in result:
        out.extend(item if isinstance(item, tuple) else [item])
    return out


def _twins(torch, kind: str, args: tuple, kwargs: dict, dtype: str):
    """The PyTorch module and the engine's, holding the same weights."""
    theirs = getattr(torch.nn, kind)(*args, **kwargs).to(getattr(torch, dtype))
    ours = OURS[kind](*args, **kwargs, dtype=dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def compare(torch, kind, args, kwargs, x_shape, states, dtype, train=True, seed=0):
    """Run both modules on the same input (and initial states of the given shapes, or none) and compare every
    output and every gradient."""
    rng = np.random.default_rng(seed)
    ours, theirs = _twins(torch, kind, args, kwargs, dtype)
    ours.train(train)
    theirs.train(train)
    arrays = [rng.uniform(-1, 1, size=s).astype(dtype) for s in [x_shape, *states]]
    xs = [engine.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    hx_ours = None if not states else xs[1] if len(states) == 1 else tuple(xs[1:])
    hx_theirs = None if not states else ts[1] if len(states) == 1 else tuple(ts[1:])
    got, want = _flat(ours(xs[0], hx_ours)), _flat(theirs(ts[0], hx_theirs))
    assert len(got) == len(want)
    loss_ours, loss_theirs = 0.0, 0.0
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype.name == dtype and g.device == default_device_name()
        _close(g, w, dtype, f"{kind} output {k}")
        r = rng.uniform(-1, 1, size=tuple(w.shape)).astype(dtype)
        loss_ours = loss_ours + (g * engine.tensor(r)).sum()
        loss_theirs = loss_theirs + (w * torch.tensor(r)).sum()
    loss_ours.backward()
    loss_theirs.backward()
    for k, (x, t) in enumerate(zip(xs, ts)):
        _close(x.grad, t.grad, dtype, f"{kind} gradient of input {k}")
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname
        expected = tp.grad if tp.grad is not None else torch.zeros_like(tp)
        actual = p.grad if p.grad is not None else engine.zeros(*p.shape, dtype=dtype)
        _close(actual, expected, dtype, f"{kind} gradient of {name}")
    return ours


# (kind, args, kwargs, input shape, initial state shapes)
LAYER_CASES = [
    ("RNN", (4, 3), {}, (5, 2, 4), []),
    ("RNN", (4, 3), {"nonlinearity": "relu", "num_layers": 2, "batch_first": True}, (2, 5, 4), [(2, 2, 3)]),
    ("RNN", (4, 3), {"bias": False, "bidirectional": True}, (4, 3, 4), [(2, 3, 3)]),
    ("RNN", (3, 2), {}, (6, 3), [(1, 2)]),  # unbatched
    ("LSTM", (4, 3), {}, (5, 2, 4), [(1, 2, 3), (1, 2, 3)]),
    ("LSTM", (4, 3), {"num_layers": 2, "batch_first": True, "bidirectional": True}, (2, 4, 4),
     [(4, 2, 3), (4, 2, 3)]),
    ("LSTM", (4, 5), {"num_layers": 2, "proj_size": 2}, (3, 2, 4), [(2, 2, 2), (2, 2, 5)]),
    ("LSTM", (3, 4), {"batch_first": True, "proj_size": 3, "bidirectional": True}, (3, 3), [(2, 3), (2, 4)]),
    ("GRU", (4, 3), {}, (5, 2, 4), [(1, 2, 3)]),
    ("GRU", (4, 3), {"num_layers": 3, "batch_first": True, "bidirectional": True, "bias": False}, (2, 3, 4), []),
    ("GRU", (2, 3), {"batch_first": True}, (4, 2), []),  # unbatched
    # dropout 1 between the layers zeroes the second layer's input in both libraries: deterministic
    ("GRU", (3, 2), {"num_layers": 2, "dropout": 1.0}, (3, 2, 3), []),
]


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")  # torch's, harmless
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("kind", "args", "kwargs", "x_shape", "states"), LAYER_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(LAYER_CASES)])
def test_layers_match_pytorch(torch, kind, args, kwargs, x_shape, states, dtype):
    compare(torch, kind, args, kwargs, x_shape, states, dtype)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers_is_off_in_eval(torch, kind):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # dropout with several layers: no warning
        compare(torch, kind, (3, 4), {"num_layers": 3, "dropout": 0.5}, (4, 2, 3), [], "float64", train=False)


def test_dropout_between_layers_draws_while_training():
    engine.manual_seed(0)
    lstm = rnn.LSTM(3, 4, num_layers=2, dropout=0.5, dtype="float64")
    x = engine.randn(5, 2, 3, dtype="float64")
    first, second = lstm(x)[0], lstm(x)[0]
    assert not np.allclose(_host(first), _host(second))  # two masks
    lstm.eval()
    assert np.array_equal(_host(lstm(x)[0]), _host(lstm(x)[0]))


# (kind, args, kwargs, input shape, state shapes)
CELL_CASES = [
    ("RNNCell", (4, 3), {}, (2, 4), [(2, 3)]),
    ("RNNCell", (4, 3), {"nonlinearity": "relu", "bias": False}, (4,), []),
    ("LSTMCell", (4, 3), {}, (2, 4), [(2, 3), (2, 3)]),
    ("LSTMCell", (4, 3), {"bias": False}, (4,), [(3,), (3,)]),
    ("GRUCell", (4, 3), {}, (2, 4), []),
    ("GRUCell", (4, 3), {}, (4,), [(3,)]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("kind", "args", "kwargs", "x_shape", "states"), CELL_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CELL_CASES)])
def test_cells_match_pytorch(torch, kind, args, kwargs, x_shape, states, dtype):
    compare(torch, kind, args, kwargs, x_shape, states, dtype)


def test_a_cell_unrolled_is_the_layer(torch):
    # The same weights stepped by hand with LSTMCell give LSTM's output sequence and final state.
    engine.manual_seed(3)
    layer = rnn.LSTM(3, 4, dtype="float64")
    cell = rnn.LSTMCell(3, 4, dtype="float64")
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()})
    x = engine.randn(6, 2, 3, dtype="float64")
    output, (h_n, c_n) = layer(x)
    h = c = engine.zeros(2, 4, dtype="float64")
    for t in range(6):
        h, c = cell(x[t], (h, c))
        _close(h, output[t], "float64", f"step {t}")
    _close(h, h_n[0], "float64", "h_n")
    _close(c, c_n[0], "float64", "c_n")


# ---- gradients against central differences ------------------------------------------------------------------------

def _with_weights(module, names, weights):
    """Put the given tensors in place of the module's parameters, so gradcheck can move them."""
    for name, w in zip(names, weights):
        module._parameters[name] = w
    return module


@settings(max_examples=8, deadline=None)
@given(data=st.data(), kind=st.sampled_from(["RNNCell", "LSTMCell", "GRUCell"]), batched=st.booleans())
def test_cells_gradcheck(data, kind, batched):
    values = st.floats(-1.5, 1.5, allow_nan=False)
    cell = OURS[kind](2, 2, dtype="float64")
    names = [n for n, _ in cell.named_parameters()]
    weights = [data.draw(strategies.tensors(shape=tuple(p.shape), elements=values, requires_grad=True))
               for p in cell.parameters()]
    lead = (2,) if batched else ()
    x = data.draw(strategies.tensors(shape=(*lead, 2), elements=values, requires_grad=True))
    h = data.draw(strategies.tensors(shape=(*lead, 2), elements=values, requires_grad=True))
    if kind == "LSTMCell":
        c = data.draw(strategies.tensors(shape=(*lead, 2), elements=values, requires_grad=True))

        def step(x, h, c, *w):
            h2, c2 = _with_weights(cell, names, w)(x, (h, c))
            return engine.cat([h2, c2], dim=-1)

        assert gradcheck(step, x, h, c, *weights)
    else:
        assert gradcheck(lambda x, h, *w: _with_weights(cell, names, w)(x, h), x, h, *weights)


def test_layer_gradcheck_two_layers_both_ways():
    # Backpropagation through time over a whole (tiny) bidirectional 2-layer GRU and LSTM, input and states.
    rng = np.random.default_rng(5)
    for kind in ("GRU", "LSTM"):
        layer = OURS[kind](2, 2, num_layers=2, bidirectional=True, dtype="float64")
        x = engine.tensor(rng.uniform(-1, 1, (3, 2, 2)), requires_grad=True)
        states = [engine.tensor(rng.uniform(-1, 1, (4, 2, 2)), requires_grad=True)
                  for _ in range(2 if kind == "LSTM" else 1)]

        def run(x, *hx, layer=layer, kind=kind):
            output, h_n = layer(x, tuple(hx) if kind == "LSTM" else hx[0])
            finals = list(h_n) if kind == "LSTM" else [h_n]
            return engine.cat([output.flatten()] + [t.flatten() for t in finals])

        assert gradcheck(run, x, *states)


# ---- parameters, init, repr -------------------------------------------------------------------------------------

NAMING_CASES = [
    ("RNN", (5, 3), {}),
    ("RNN", (5, 3), {"num_layers": 2, "nonlinearity": "relu", "bias": False, "batch_first": True,
                     "dropout": 0.5, "bidirectional": True}),
    ("LSTM", (5, 4), {"num_layers": 2, "bidirectional": True, "proj_size": 2}),
    ("LSTM", (5, 4), {"bias": False, "proj_size": 3}),
    ("GRU", (5, 3), {"num_layers": 3, "dropout": 0.25}),
    ("RNNCell", (5, 3), {"nonlinearity": "relu", "bias": False}),
    ("LSTMCell", (5, 3), {}),
    ("GRUCell", (5, 3), {"bias": False}),
]


@pytest.mark.parametrize(("kind", "args", "kwargs"), NAMING_CASES)
def test_parameters_and_repr_are_pytorchs(torch, kind, args, kwargs):
    theirs = getattr(torch.nn, kind)(*args, **kwargs)
    ours = OURS[kind](*args, **kwargs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()
    ]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    if hasattr(theirs, "all_weights"):
        assert [[tuple(p.shape) for p in group] for group in ours.all_weights] == [
            [tuple(p.shape) for p in group] for group in theirs.all_weights
        ]
    for name in ("input_size", "hidden_size", "bias", "num_layers", "batch_first", "dropout", "bidirectional",
                 "proj_size", "mode", "nonlinearity"):
        if hasattr(theirs, name):
            assert getattr(ours, name) == getattr(theirs, name), name


def test_init_is_uniform_within_one_over_sqrt_hidden():
    engine.manual_seed(0)
    lstm = rnn.LSTM(3, 16, num_layers=2)
    bound = 1 / 4
    for name, p in lstm.named_parameters():
        values = _host(p)
        assert values.min() >= -bound and values.max() <= bound, name
        assert values.max() - values.min() > bound, name  # spread over the interval, not a constant
    engine.manual_seed(0)
    again = rnn.LSTM(3, 16, num_layers=2)
    assert all(np.array_equal(_host(a), _host(b)) for a, b in zip(lstm.parameters(), again.parameters()))
    lstm.reset_parameters()
    assert not np.array_equal(_host(lstm.weight_ih_l0), _host(again.weight_ih_l0))


def test_module_behaviour():
    gru = rnn.GRU(3, 4, dtype="float64")
    assert gru.weight_ih_l0.dtype == engine.float64 and gru.weight_ih_l0.requires_grad
    gru.flatten_parameters()  # PyTorch's cuDNN packing; nothing to do here, but programs call it
    gru.float()
    output, h_n = gru(engine.zeros(2, 1, 3))
    assert output.dtype == engine.float32 and tuple(h_n.shape) == (1, 1, 4)
    # a state carried from one call to the next (detached: truncated backpropagation through time)
    output, h_n = gru(engine.ones(2, 1, 3), h_n.detach())
    output.sum().backward()
    assert gru.weight_hh_l0.grad is not None and tuple(gru.weight_hh_l0.grad.shape) == (12, 4)
    # an empty batch is fine (as in PyTorch), an empty sequence is not
    output, h_n = rnn.RNN(3, 2)(engine.zeros(4, 0, 3))
    assert tuple(output.shape) == (4, 0, 2) and tuple(h_n.shape) == (1, 0, 2)


# ---- errors ---------------------------------------------------------------------------------------------------------

def test_constructor_errors():
    with pytest.raises(engine.EngineValueError, match="nonlinearity 'sigmoid'"):
        rnn.RNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(engine.EngineValueError, match="nonlinearity"):
        rnn.RNNCell(2, 3, nonlinearity="gelu")
    with pytest.raises(engine.EngineValueError, match=r"dropout should be a number in range \[0, 1\]"):
        rnn.LSTM(2, 3, num_layers=2, dropout=1.5)
    with pytest.raises(engine.EngineValueError, match="hidden_size must be greater than zero"):
        rnn.GRU(2, 0)
    with pytest.raises(engine.EngineTypeError, match="input_size should be of type int, got: float"):
        rnn.RNN(2.0, 3)
    with pytest.raises(engine.EngineTypeError, match="batch_first should be of type bool"):
        rnn.GRU(2, 3, batch_first=1)
    with pytest.raises(engine.EngineValueError, match="proj_size has to be smaller than hidden_size"):
        rnn.LSTM(2, 3, proj_size=3)
    with pytest.raises(TypeError):
        rnn.GRU(2, 3, proj_size=1)  # LSTM only, as in PyTorch
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        rnn.RNN(2, 3, dropout=0.2)


def test_forward_errors():
    lstm = rnn.LSTM(4, 3)
    with pytest.raises(engine.ShapeError, match="expected input to be 2D or 3D, got 4D"):
        lstm(engine.zeros(1, 2, 3, 4))
    with pytest.raises(engine.ShapeError, match="input.size\\(-1\\) must be equal to input_size. Expected 4, got 5"):
        lstm(engine.zeros(2, 3, 5))
    with pytest.raises(engine.DTypeError, match=r"input dtype \(engine.float64\) does not match weight dtype"):
        lstm(engine.zeros(2, 3, 4, dtype="float64"))
    with pytest.raises(engine.DTypeError, match="input dtype"):
        lstm(engine.zeros(2, 3, 4, dtype="int64"))
    with pytest.raises(engine.EngineTypeError, match=r"hx must be a tuple \(h_0, c_0\)"):
        lstm(engine.zeros(2, 3, 4), engine.zeros(1, 3, 3))
    with pytest.raises(engine.ShapeError, match=r"expected hidden\[1\] size \(1, 3, 3\), got \[1, 2, 3\]"):
        lstm(engine.zeros(2, 3, 4), (engine.zeros(1, 3, 3), engine.zeros(1, 2, 3)))
    with pytest.raises(engine.ShapeError, match="sequence length to be larger than 0"):
        lstm(engine.zeros(0, 3, 4))
    with pytest.raises(engine.EngineTypeError, match="input must be a tensor, got list"):
        lstm([[1.0, 2.0, 3.0, 4.0]])
    gru = rnn.GRU(4, 3, batch_first=True)
    with pytest.raises(engine.ShapeError, match=r"expected hidden size \(1, 2, 3\), got \[1, 5, 3\]"):
        gru(engine.zeros(2, 5, 4), engine.zeros(1, 5, 3))
    with pytest.raises(engine.ShapeError, match="for batched 3-D input, hx should also be 3-D but got \\(2-D\\)"):
        gru(engine.zeros(2, 5, 4), engine.zeros(2, 3))
    with pytest.raises(engine.ShapeError, match="for unbatched 2-D input, hx should also be 2-D"):
        gru(engine.zeros(5, 4), engine.zeros(1, 1, 3))
    with pytest.raises(engine.DTypeError, match="hx dtype"):
        gru(engine.zeros(2, 5, 4), engine.zeros(1, 2, 3, dtype="float64"))


def test_cell_errors():
    cell = rnn.RNNCell(2, 3)
    with pytest.raises(engine.ShapeError, match="input has inconsistent input_size: got 5 expected 2"):
        cell(engine.zeros(4, 5))
    with pytest.raises(engine.ShapeError, match="input batch size 4 doesn't match hidden batch size 3"):
        cell(engine.zeros(4, 2), engine.zeros(3, 3))
    with pytest.raises(engine.ShapeError, match="hidden has inconsistent hidden_size: got 2, expected 3"):
        cell(engine.zeros(4, 2), engine.zeros(4, 2))
    with pytest.raises(engine.ShapeError, match="expected input to be 1D or 2D, got 3D"):
        cell(engine.zeros(1, 4, 2))
    with pytest.raises(engine.EngineTypeError, match=r"hx must be a tuple \(h, c\)"):
        rnn.LSTMCell(2, 3)(engine.zeros(4, 2), engine.zeros(4, 3))
    with pytest.raises(engine.ShapeError, match=r"hx\[1\] has inconsistent hidden_size"):
        rnn.LSTMCell(2, 3)(engine.zeros(4, 2), (engine.zeros(4, 3), engine.zeros(4, 2)))
