"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` over whole sequences, and the one-step cells ``RNNCell``,
``LSTMCell``, ``GRUCell``, with PyTorch's parameters (names, shapes, gate order, initialisation) and shapes.

One step, for input x and previous state h (and c), in the gate order PyTorch stores in the weights::

    RNN   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)                  (relu with nonlinearity='relu')
    LSTM  i, f, g, o = the four quarters of W_ih x + b_ih + W_hh h + b_hh
          c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
          h' = sigmoid(o) * tanh(c')                                 (then W_hr h' when proj_size > 0)
    GRU   r, z, n: the thirds of W_ih x + b_ih (call them x_r, x_z, x_n) and of W_hh h + b_hh (h_r, h_z, h_n)
          r = sigmoid(x_r + h_r),  z = sigmoid(x_z + h_z),  n = tanh(x_n + r * h_n)
          h' = (1 - z) * n + z * h

Everything is composed from tensor ops (``F.linear``, ``sigmoid``, ``tanh``, ``*``, ``+``, ``stack``, ``cat``), so
backpropagation through time is the autograd of the unrolled loop: there is no derivative here to get wrong, and
every device runs it. The input's share, ``W_ih x + b_ih``, is one matrix product for all time steps before the
loop; only ``W_hh h`` waits for the previous step.

A layer of ``num_layers`` stacks reads the previous layer's output sequence (after dropout, while training, between
layers); ``bidirectional`` runs a second set of weights (``..._reverse``) from the last step to the first and joins
the two output sequences feature-wise. The final states come back as (num_layers * num_directions, batch, hidden).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from engine.core.tensor import Tensor, cat, stack
from engine.errors import DeviceError, DTypeError, EngineTypeError, EngineValueError, ShapeError
from engine.nn import functional as F
from engine.nn import init
from engine.nn.module import Module
from engine.nn.parameter import Parameter

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---- one step -------------------------------------------------------------------------------------------------
# Each takes gi = W_ih x + b_ih for this step, already computed, and the previous state.

def _rnn_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, relu: bool) -> Tensor:
    """h' = act(gi + W_hh h + b_hh)."""
    pre = gi + F.linear(h, w_hh, b_hh)
    return pre.relu() if relu else pre.tanh()


def _lstm_step(
    gi: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None
) -> tuple[Tensor, Tensor]:
    """(h', c') of one LSTM step; the gates i, f, g, o are the quarters of gi + W_hh h + b_hh."""
    i, f, g, o = (gi + F.linear(h, w_hh, b_hh)).chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    if w_hr is not None:  # LSTM with projections: the state carried on is W_hr h (proj_size features)
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """h' of one GRU step (r, z, n as in the module docstring)."""
    x_r, x_z, x_n = gi.chunk(3, -1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)
    r = (x_r + h_r).sigmoid()
    z = (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    return n + z * (h - n)  # = (1 - z) n + z h, one operation fewer


# ---- checks shared by the layers and the cells ----------------------------------------------------------------

def _check_size(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise EngineTypeError(f"{owner}: {name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise EngineValueError(f"{owner}: {name} must be greater than zero, got {value}")
    return value


def _check_bool(owner: str, name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise EngineTypeError(f"{owner}: {name} should be of type bool, got: {type(value).__name__}")
    return value


def _check_nonlinearity(owner: str, nonlinearity: object) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise EngineValueError(f"{owner}: unknown nonlinearity {nonlinearity!r}; select from 'tanh' or 'relu'")
    return nonlinearity  # type: ignore[return-value]


def _check_tensor(owner: str, name: str, value: object) -> Tensor:
    if not isinstance(value, Tensor):
        hint = " (packed sequences are not supported; pad the batch instead)" if name == "input" else ""
        raise EngineTypeError(f"{owner}: {name} must be a tensor, got {type(value).__name__}{hint}")
    return value


def _check_like_weight(owner: str, name: str, t: Tensor, weight: Tensor) -> None:
    """``t`` (the input or a state) has the weights' dtype and device."""
    if t.dtype != weight.dtype:
        raise DTypeError(
            f"{owner}: {name} dtype ({t.dtype}) does not match weight dtype ({weight.dtype}); convert the {name}: "
            f"{name}.to({weight.dtype}), or convert the model: model.to({t.dtype})"
        )
    if t.device != weight.device:
        raise DeviceError(
            f"{owner}: {name} is on {t.device} but the weights are on {weight.device}; move them to one device "
            "with .to()"
        )


def _stack(tensors: list) -> Tensor:
    """stack(tensors, 0); one tensor (a single step, a single layer) is only unsqueezed, one node instead of two."""
    return tensors[0].unsqueeze(0) if len(tensors) == 1 else stack(tensors, 0)


def _uniform_init(module: Module, hidden_size: int) -> None:
    """PyTorch's recurrent init: every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in order."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for weight in module.parameters():
        init.uniform_(weight, -bound, bound)


# ---- whole sequences ------------------------------------------------------------------------------------------

class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: the parameters per layer and direction, the checks, the loop.

    Parameters of layer k (``_reverse`` appended for the backward direction), G the number of gates (1, 4, 3):
    ``weight_ih_lk`` (G*hidden_size, input features of the layer), ``weight_hh_lk`` (G*hidden_size, hidden),
    ``bias_ih_lk`` and ``bias_hh_lk`` (G*hidden_size,), and for an LSTM with ``proj_size`` ``weight_hr_lk``
    (proj_size, hidden_size). Layer 0 reads ``input_size`` features, the others num_directions * the output size.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        owner = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if mode not in _GATES:
            raise EngineValueError(f"RNNBase: unrecognized RNN mode {mode!r}; use one of {sorted(_GATES)}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise EngineValueError(
                f"{owner}: dropout should be a number in range [0, 1] representing the probability of an element "
                f"being zeroed, got {dropout!r}"
            )
        _check_size(owner, "input_size", input_size)
        _check_size(owner, "hidden_size", hidden_size)
        _check_size(owner, "num_layers", num_layers)
        _check_bool(owner, "bias", bias)
        _check_bool(owner, "batch_first", batch_first)
        _check_bool(owner, "bidirectional", bidirectional)
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise EngineValueError(
                f"{owner}: proj_size should be a positive integer or zero to disable projections, got {proj_size!r}"
            )
        if proj_size >= hidden_size:
            raise EngineValueError(
                f"{owner}: proj_size has to be smaller than hidden_size, got proj_size={proj_size} and "
                f"hidden_size={hidden_size}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                UserWarning,
                stacklevel=3,
            )
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size

        from engine.core.creation import empty

        gate_size = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = {"weight_ih": (gate_size, layer_input), "weight_hh": (gate_size, out_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    setattr(self, kind + suffix, Parameter(empty(*shape, dtype=dtype, device=device)))
                    names.append(kind + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _owner(self) -> str:
        return type(self).__name__

    def reset_parameters(self) -> None:
        """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), drawn in parameter order."""
        _uniform_init(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """PyTorch packs the weights into one cuDNN buffer here; the engine keeps them apart: nothing to do."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped per layer and direction: [[weight_ih_l0, weight_hh_l0, ...], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _flat_weights(self) -> list[Parameter]:
        return [getattr(self, name) for name in self._flat_weights_names]

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text

    # ---- forward --------------------------------------------------------------------------------------------
    def _weights(self, layer: int, direction: int) -> tuple[Tensor | None, ...]:
        """(weight_ih, weight_hh, bias_ih, bias_hh, weight_hr) of one layer and direction, None where absent."""
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        get = self._parameters.get
        return (get("weight_ih" + suffix), get("weight_hh" + suffix), get("bias_ih" + suffix),
                get("bias_hh" + suffix), get("weight_hr" + suffix))

    def _states(self, input: Tensor, hx: Any, batched: bool) -> list[Tensor | None]:  # noqa: A002
        """The initial states as (num_layers * num_directions, batch, features) tensors: [h0] or [h0, c0]."""
        owner = self._owner
        directions = 2 if self.bidirectional else 1
        batch = input.shape[1]
        out_size = self.proj_size or self.hidden_size
        expected = [(self.num_layers * directions, batch, out_size)]
        if self.mode == "LSTM":
            expected.append((self.num_layers * directions, batch, self.hidden_size))
        if hx is None:
            from engine.core.creation import zeros

            return [zeros(*shape, dtype=input.dtype, device=input.device) for shape in expected]
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise EngineTypeError(f"LSTM: hx must be a tuple (h_0, c_0) of two tensors, got {type(hx).__name__}")
            states = [_check_tensor(owner, f"hx[{k}]", t) for k, t in enumerate(hx)]
        else:
            states = [_check_tensor(owner, "hx", hx)]
        want = 3 if batched else 2
        if any(t.ndim != want for t in states):
            dims = ", ".join(f"{t.ndim}-D" for t in states)
            what = "hx and cx" if self.mode == "LSTM" else "hx"
            raise ShapeError(
                f"{owner}: for {'batched 3-D' if batched else 'unbatched 2-D'} input, {what} should also be "
                f"{want}-D but got ({dims}) tensor{'s' if len(states) > 1 else ''}"
            )
        if not batched:
            states = [t.unsqueeze(1) for t in states]
        for k, (t, shape) in enumerate(zip(states, expected)):
            if tuple(t.shape) != shape:
                name = f"hidden[{k}]" if self.mode == "LSTM" else "hidden"
                raise ShapeError(f"{owner}: expected {name} size {shape}, got {list(t.shape)}")
            _check_like_weight(owner, "hx" if len(states) == 1 else f"hx[{k}]", t, self._flat_weights[0])
        return states

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:  # noqa: A002 - PyTorch's name
        """``(output, h_n)``, or ``(output, (h_n, c_n))`` for an LSTM.

        input (seq, batch, input_size), or (batch, seq, input_size) with ``batch_first``, or (seq, input_size)
        unbatched; hx the initial state(s), (num_layers * num_directions, batch, hidden) each (zeros if None).
        output holds the last layer's state at every step, num_directions * hidden features (proj_size for an
        LSTM with projections), laid out like the input.
        """
        owner = self._owner
        _check_tensor(owner, "input", input)
        if input.ndim not in (2, 3):
            raise ShapeError(f"{owner}: expected input to be 2D or 3D, got {input.ndim}D tensor instead")
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(0 if self.batch_first else 1)
        if self.batch_first:
            x = x.transpose(0, 1)  # the loop runs over the first dimension: (seq, batch, features)
        _check_like_weight(owner, "input", x, self._flat_weights[0])
        if x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{owner}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {x.shape[-1]}"
            )
        if x.shape[0] == 0:
            raise ShapeError(f"{owner}: expected sequence length to be larger than 0, got input of shape "
                             f"{tuple(input.shape)}")
        states = self._states(x, hx, batched)
        directions = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in states]
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, True)
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                out, last = self._run(x, [s[k] for s in states], layer, direction)
                outputs.append(out)
                for kept, state in zip(finals, last):
                    kept.append(state)
            x = outputs[0] if directions == 1 else cat(outputs, dim=2)
        output = x.transpose(0, 1) if self.batch_first else x
        finished = [_stack(kept) for kept in finals]
        if not batched:
            output = output.squeeze(0 if self.batch_first else 1)
            finished = [t.squeeze(1) for t in finished]
        return output, (tuple(finished) if self.mode == "LSTM" else finished[0])

    def _run(self, x: Tensor, state: list[Tensor], layer: int, direction: int) -> tuple[Tensor, list[Tensor]]:
        """One layer in one direction over the sequence x (seq, batch, features): (outputs, final states)."""
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
        gi = F.linear(x, w_ih, b_ih)  # W_ih x_t + b_ih for every t at once: (seq, batch, gates)
        steps = x.shape[0]
        order = range(steps) if direction == 0 else range(steps - 1, -1, -1)
        outputs: list[Tensor | None] = [None] * steps
        h = state[0]
        c = state[1] if len(state) > 1 else None
        for t in order:
            if self.mode == "LSTM":
                h, c = _lstm_step(gi[t], h, c, w_hh, b_hh, w_hr)
            elif self.mode == "GRU":
                h = _gru_step(gi[t], h, w_hh, b_hh)
            else:
                h = _rnn_step(gi[t], h, w_hh, b_hh, self.mode == "RNN_RELU")
            outputs[t] = h
        return _stack(outputs), ([h] if c is None else [h, c])


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (``nonlinearity='relu'`` for relu).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)``; ``rnn(x, h0)`` returns ``(output, h_n)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        mode = "RNN_TANH" if _check_nonlinearity("RNN", nonlinearity) == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o (that order in the weights), cell state c, hidden state h.

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False,
    proj_size=0)``; ``lstm(x, (h0, c0))`` returns ``(output, (h_n, c_n))``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit: reset gate r, update gate z, candidate n (that order in the weights).

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False)``;
    ``gru(x, h0)`` returns ``(output, h_n)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


# ---- one step at a time ---------------------------------------------------------------------------------------

class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` (G*hidden, input_size), ``weight_hh`` (G*hidden, hidden), ``bias_ih``
    and ``bias_hh`` (G*hidden,) or None, initialised like the layers."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        _check_size(owner, "input_size", input_size)
        _check_size(owner, "hidden_size", hidden_size)
        _check_bool(owner, "bias", bias)
        from engine.core.creation import empty

        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(empty(gates, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(gates, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(gates, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(gates, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), drawn in parameter order."""
        _uniform_init(self, self.hidden_size)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        if nonlinearity != "tanh":
            text += f", nonlinearity={nonlinearity}"
        return text

    def _prepare(self, input: Tensor, hx: Any, count: int) -> tuple[Tensor, list[Tensor], bool]:  # noqa: A002
        """(input as (batch, input_size), the ``count`` states as (batch, hidden), whether the input was batched)."""
        owner = type(self).__name__
        _check_tensor(owner, "input", input)
        if input.ndim not in (1, 2):
            raise ShapeError(f"{owner}: expected input to be 1D or 2D, got {input.ndim}D instead")
        _check_like_weight(owner, "input", input, self.weight_ih)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise ShapeError(f"{owner}: input has inconsistent input_size: got {x.shape[1]} expected {self.input_size}")
        if hx is None:
            from engine.core.creation import zeros

            zero = zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
            return x, [zero] * count, batched
        if count == 2:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise EngineTypeError(f"{owner}: hx must be a tuple (h, c) of two tensors, got {type(hx).__name__}")
            states = [_check_tensor(owner, f"hx[{k}]", t) for k, t in enumerate(hx)]
        else:
            states = [_check_tensor(owner, "hx", hx)]
        for k, t in enumerate(states):
            name = "hidden" if count == 1 else f"hx[{k}]"
            if t.ndim not in (1, 2):
                raise ShapeError(f"{owner}: expected {name} to be 1D or 2D, got {t.ndim}D instead")
            if t.ndim != (2 if batched else 1):
                raise ShapeError(
                    f"{owner}: {name} is {t.ndim}-D but the input is {input.ndim}-D; give both a batch dimension "
                    "or neither"
                )
        states = [t if batched else t.unsqueeze(0) for t in states]
        for k, t in enumerate(states):
            name = "hidden" if count == 1 else f"hx[{k}]"
            if t.shape[0] != x.shape[0]:
                raise ShapeError(f"{owner}: input batch size {x.shape[0]} doesn't match {name} batch size {t.shape[0]}")
            if t.shape[1] != self.hidden_size:
                raise ShapeError(
                    f"{owner}: {name} has inconsistent hidden_size: got {t.shape[1]}, expected {self.hidden_size}"
                )
            _check_like_weight(owner, name, t, self.weight_ih)
        return x, states, batched


class RNNCell(RNNCellBase):
    """One Elman step: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu); ``cell(x, h)`` returns h'."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = _check_nonlinearity("RNNCell", nonlinearity)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, hx, 1)
        h = _rnn_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh,
                      self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; ``cell(x, (h, c))`` returns ``(h', c')`` (gates i, f, g, o as in ``LSTM``)."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        x, (h, c), batched = self._prepare(input, hx, 2)
        h, c = _lstm_step(F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh, None)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step; ``cell(x, h)`` returns h' (r, z, n as in ``GRU``)."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, hx, 1)
        h = _gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
