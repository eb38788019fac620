"""User mistakes get one clear line: the op, the shapes/dtypes/devices, what would be valid.

Each error is an ``engine.EngineError`` subclass that is also the builtin PyTorch users
catch (ValueError, TypeError, RuntimeError).
"""

from __future__ import annotations

import pytest
from tensor_helpers import DEVICES

import engine
from engine.backends import Device
from engine.backends.numpy_backend import NumpyBackend
from engine.core.tensor import Tensor
from engine.ops import linalg

devices = pytest.mark.parametrize("device", DEVICES)


def raises(error: type, builtin: type, *fragments: str):
    """Check the class, the builtin base, that the message is one line, and that it names ``fragments``."""

    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(error)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            err = self.info.value
            assert isinstance(err, engine.EngineError) and isinstance(err, builtin), type(err).__mro__
            message = str(err)
            assert "\n" not in message, message
            for f in fragments:
                assert f in message, f"{f!r} not in {message!r}"
            return handled

    return _Check()


@devices
def test_broadcast_shape_mismatch_names_op_and_shapes(device):
    a, b = engine.ones(2, 3, device=device), engine.ones(4, device=device)
    with raises(engine.ShapeError, ValueError, "add", "(2, 3)", "(4,)", "broadcast"):
        a + b
    with raises(engine.ShapeError, ValueError, "mul", "(2, 3)", "(2, 4)"):
        a * engine.ones(2, 4, device=device)
    with raises(engine.ShapeError, ValueError, "maximum", "(2, 3)", "(2,)"):
        engine.maximum(a, engine.ones(2, device=device))


@devices
def test_matmul_inner_dim_mismatch(device):
    with raises(engine.ShapeError, ValueError, "matmul", "(2, 3)", "(4, 5)", "3 != 4"):
        engine.ones(2, 3, device=device) @ engine.ones(4, 5, device=device)
    with raises(engine.ShapeError, ValueError, "matmul", "(3,)", "(2,)"):
        engine.ones(3, device=device) @ engine.ones(2, device=device)
    with raises(engine.ShapeError, ValueError, "matmul", "batch"):
        engine.ones(2, 2, 3, device=device) @ engine.ones(3, 3, 4, device=device)


@devices
def test_matmul_dtype_mix_names_both(device):
    with raises(engine.DTypeError, TypeError, "matmul", "float32", "float64"):
        engine.ones(2, 3, device=device) @ engine.ones(3, 2, dtype=engine.float64, device=device)


@devices
def test_mean_of_int_tensor_needs_floating_type(device):
    with raises(engine.DTypeError, TypeError, "mean", "floating point", "Int64"):
        engine.tensor([1, 2], device=device).mean()


@devices
def test_backward_on_non_scalar_without_gradient(device):
    y = engine.ones(3, requires_grad=True, device=device) * 2
    with raises(engine.GradError, RuntimeError, "backward", "scalar", "(3,)", "gradient="):
        y.backward()
    with raises(engine.GradError, RuntimeError, "backward", "requires_grad=True"):
        engine.ones(3, device=device).sum().backward()
    with raises(engine.ShapeError, ValueError, "backward", "(2,)", "(3,)"):
        y.backward(engine.ones(2, device=device))


@devices
def test_view_of_non_contiguous_says_use_reshape(device):
    with raises(engine.ShapeError, ValueError, "view", "not contiguous", "reshape"):
        engine.ones(2, 3, device=device).T.view(6)
    with raises(engine.ShapeError, ValueError, "reshape", "(4, 2)", "6"):
        engine.ones(2, 3, device=device).reshape(4, 2)


@devices
def test_index_out_of_range(device):
    x = engine.ones(2, 3, device=device)
    with raises(engine.EngineValueError, ValueError, "index 5", "dimension 0", "size 2"):
        x[5]
    with raises(engine.EngineValueError, ValueError, "index -4", "dimension 1", "size 3"):
        x[:, -4]
    with raises(engine.EngineValueError, ValueError, "index 7", "dimension 0"):
        x[engine.tensor([0, 7], device=device)]
    with raises(engine.EngineTypeError, TypeError, "index", "long or bool"):
        x[engine.tensor([0.0], device=device)]


@devices
def test_bad_dim(device):
    x = engine.ones(2, 3, device=device)
    with raises(engine.EngineValueError, ValueError, "sum", "dim 2", "2-d", "-2 to 1"):
        x.sum(2)
    with raises(engine.EngineValueError, ValueError, "softmax", "dim -3"):
        x.softmax(-3)
    with raises(engine.EngineValueError, ValueError, "max", "dim 5"):
        x.max(5)
    with raises(engine.EngineValueError, ValueError, "transpose"):
        x.transpose(0, 2)
    with raises(engine.ShapeError, ValueError, "permute", "(0, 0)"):
        x.permute(0, 0)


@devices
def test_item_on_many_elements(device):
    with raises(engine.EngineValueError, ValueError, "item", "one element", "(2, 3)"):
        engine.ones(2, 3, device=device).item()
    with raises(engine.EngineValueError, ValueError, "ambiguous"):
        bool(engine.ones(2, device=device))


@devices
def test_cat_and_in_place_errors(device):
    with raises(engine.ShapeError, ValueError, "cat", "(2, 3)", "(3, 2)"):
        engine.cat([engine.ones(2, 3, device=device), engine.ones(3, 2, device=device)])
    with raises(engine.GradError, RuntimeError, "mul_", "leaf", "no_grad"):
        engine.ones(2, requires_grad=True, device=device).mul_(2)
    with raises(engine.GradError, RuntimeError, "numpy", "detach"):
        engine.ones(2, requires_grad=True, device=device).numpy()
    with raises(engine.EngineTypeError, TypeError, "add", "str"):
        engine.ones(2, device=device) + "a"


class _FakeBackend(NumpyBackend):
    """A second backend object: enough to exercise the device checks with one real device."""

    name = "fake"


def _on_fake_device(values) -> Tensor:
    import numpy as np

    return Tensor._make(np.asarray(values, dtype=np.float32), Device("fake"), _FakeBackend())


def test_mixing_devices_operator_path():
    with raises(engine.DeviceError, ValueError, "add", "numpy", "fake", ".to(device)"):
        engine.ones(2, device="numpy") + _on_fake_device([1.0, 2.0])


def test_mixing_devices_function_path():
    with raises(engine.DeviceError, ValueError, "matmul", "numpy", "fake"):
        linalg.MatMul.apply(engine.ones(2, 2, device="numpy"), _on_fake_device([[1.0, 2.0], [3.0, 4.0]]))


@pytest.mark.skipif(len(DEVICES) < 2, reason="needs two devices")
def test_mixing_real_devices():
    with raises(engine.DeviceError, ValueError, "mul", DEVICES[0], DEVICES[1]):
        engine.ones(2, device=DEVICES[0]) * engine.ones(2, device=DEVICES[1])


def test_unknown_device():
    with raises(engine.DeviceError, ValueError, "unknown device", "'tpu'", "'cpu'"):
        engine.ones(2, device="tpu")
