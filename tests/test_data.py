"""engine.utils.data: TensorDataset, DataLoader batching, shuffling under manual_seed, collation, random_split."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.utils.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


def _dataset(n: int) -> TensorDataset:
    x = engine.tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2))
    y = engine.tensor(np.arange(n))
    return TensorDataset(x, y)


class _Pairs(Dataset):
    """A map-style dataset written as users write them: item i is (features, label)."""

    def __init__(self, n: int) -> None:
        self.data = _dataset(n)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int):
        return self.data[i]


def test_tensor_dataset_items_and_length():
    ds = _dataset(5)
    assert len(ds) == 5
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y.item() == 3
    with pytest.raises(engine.ShapeError, match=r"first dimensions are \[5, 4\]"):
        TensorDataset(engine.zeros(5, 2), engine.zeros(4))
    with pytest.raises(engine.EngineTypeError, match="argument 1 is a list"):
        TensorDataset(engine.zeros(2), [1, 2])
    with pytest.raises(engine.EngineValueError):
        TensorDataset()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(), shuffle=st.booleans())
def test_batch_counts_sizes_and_coverage(n, batch_size, drop_last, shuffle):
    loader = DataLoader(_dataset(n), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
    batches = list(loader)
    expected = n // batch_size if drop_last else -(-n // batch_size)
    assert len(loader) == expected == len(batches)
    sizes = [len(y) for _, y in batches]
    assert all(s == batch_size for s in sizes[:-1])
    if drop_last:
        assert all(s == batch_size for s in sizes)
    seen = [i for _, y in batches for i in y.tolist()]
    assert len(set(seen)) == len(seen)  # no item twice in one epoch
    if not drop_last:
        assert sorted(seen) == list(range(n))  # every item once
    if not shuffle:
        assert seen == list(range(len(seen)))
    for x, y in batches:  # features stay with their labels
        assert x.tolist() == [[2.0 * i, 2.0 * i + 1] for i in y.tolist()]
        assert x.dtype == engine.float32 and y.dtype == engine.int64


def test_shuffle_is_reproducible_under_manual_seed_and_changes_per_epoch():
    loader = DataLoader(_dataset(30), batch_size=7, shuffle=True)

    def epoch():
        return [i for _, y in loader for i in y.tolist()]

    engine.manual_seed(42)
    first, second = epoch(), epoch()
    engine.manual_seed(42)
    assert epoch() == first and epoch() == second
    assert first != second and sorted(first) == sorted(second) == list(range(30))
    assert first != list(range(30))


def test_generic_dataset_collates_like_the_fast_path():
    engine.manual_seed(3)
    fast = list(DataLoader(_dataset(11), batch_size=4, shuffle=True))
    engine.manual_seed(3)
    slow = list(DataLoader(_Pairs(11), batch_size=4, shuffle=True))
    assert len(fast) == len(slow) == 3
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert isinstance(sx, engine.Tensor) and tuple(sx.shape) == tuple(fx.shape)
        assert sx.tolist() == fx.tolist() and sy.tolist() == fy.tolist() and sy.dtype == fy.dtype


def test_default_collate_types():
    batch = default_collate([(engine.tensor([1.0, 2.0]), 3, 0.5, "a"), (engine.tensor([3.0, 4.0]), 4, 1.5, "b")])
    x, ints, floats, names = batch
    assert tuple(x.shape) == (2, 2) and x.dtype == engine.float32
    assert ints.dtype == engine.int64 and ints.tolist() == [3, 4]
    assert floats.dtype == engine.float64 and floats.tolist() == [0.5, 1.5]  # as PyTorch's default_collate
    assert names == ["a", "b"]
    d = default_collate([{"x": np.zeros(3), "y": True}, {"x": np.ones(3), "y": False}])
    assert tuple(d["x"].shape) == (2, 3) and d["y"].dtype == engine.bool
    lists = default_collate([[1, 2], [3, 4]])
    assert isinstance(lists, list) and [t.tolist() for t in lists] == [[1, 3], [2, 4]]
    with pytest.raises(engine.EngineTypeError, match="can't batch items of type object"):
        default_collate([object(), object()])


def test_collate_fn_batch_size_none_and_validation():
    loader = DataLoader(_Pairs(5), batch_size=2, collate_fn=lambda items: len(items))
    assert list(loader) == [2, 2, 1]
    single = list(DataLoader(_dataset(3), batch_size=None))
    assert len(single) == 3 and single[1][1].item() == 1
    for bad in (0, -1, 2.5, True):
        with pytest.raises(engine.EngineValueError, match="batch_size must be a positive int"):
            DataLoader(_dataset(3), batch_size=bad)
    with pytest.raises(engine.EngineTypeError, match="needs __getitem__ and __len__"):
        DataLoader(42)


def test_tensor_dataset_that_requires_grad_keeps_the_graph():
    x = engine.rand(6, 2, requires_grad=True)
    (xb,) = next(iter(DataLoader(TensorDataset(x), batch_size=3)))
    xb.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0]] * 3 + [[0.0, 0.0]] * 3


def test_random_split_and_subset():
    engine.manual_seed(0)
    a, b = random_split(_dataset(10), [7, 3])
    assert isinstance(a, Subset) and len(a) == 7 and len(b) == 3
    items = sorted([a[i][1].item() for i in range(7)] + [b[i][1].item() for i in range(3)])
    assert items == list(range(10))
    c, d = random_split(_dataset(5), [0.6, 0.4])
    assert (len(c), len(d)) == (3, 2)
    with pytest.raises(engine.EngineValueError, match="sum to 5, not the dataset size 10"):
        random_split(_dataset(10), [3, 2])
    assert len(list(DataLoader(a, batch_size=4))) == 2


def test_lecture_style_training_loop_with_a_loader():
    import engine.nn as nn
    import engine.optim as optim

    engine.manual_seed(0)
    x = engine.randn(64, 3)
    y = x @ engine.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    for _ in range(60):
        for xb, yb in loader:
            loss = nn.functional.mse_loss(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    np.testing.assert_allclose(model.weight.detach().numpy(), [[1.0, -2.0, 0.5]], atol=1e-3)
    np.testing.assert_allclose(model.bias.detach().numpy(), [0.3], atol=1e-3)
