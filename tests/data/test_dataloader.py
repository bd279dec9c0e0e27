"""DataLoader, samplers, collation, datasets and random_split."""

from collections import namedtuple

import numpy as np
import pytest

import gradwalk
from gradwalk.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)
from tests.fixtures.oracle import error_of, oracle


def _ds(n=10):
    return TensorDataset(gradwalk.arange(n * 2, dtype=gradwalk.float32).reshape(n, 2),
                         gradwalk.arange(n))


def test_sequential_batches_cover_in_order():
    batches = list(DataLoader(_ds(), batch_size=4))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == gradwalk.float32
    assert isinstance(batches[0], list)  # tuples of samples collate to lists, as in PyTorch


def test_drop_last_and_len():
    loader = DataLoader(_ds(), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(y) for _, y in loader] == [4, 4]
    assert len(DataLoader(_ds(), batch_size=4)) == 3
    assert len(DataLoader(_ds(), batch_size=20)) == 1


def test_shuffle_is_a_permutation_repeatable_by_seed_and_new_each_epoch():
    loader = DataLoader(_ds(50), batch_size=7, shuffle=True, generator=gradwalk.Generator()
                        .manual_seed(3))
    epoch1 = [i for _, y in loader for i in y.tolist()]
    epoch2 = [i for _, y in loader for i in y.tolist()]
    assert sorted(epoch1) == list(range(50)) and sorted(epoch2) == list(range(50))
    assert epoch1 != list(range(50)) and epoch1 != epoch2
    again = DataLoader(_ds(50), batch_size=7, shuffle=True, generator=3)
    assert [i for _, y in again for i in y.tolist()] == epoch1
    gradwalk.manual_seed(5)
    a = [i for _, y in DataLoader(_ds(50), batch_size=50, shuffle=True) for i in y.tolist()]
    gradwalk.manual_seed(5)
    b = [i for _, y in DataLoader(_ds(50), batch_size=50, shuffle=True) for i in y.tolist()]
    assert a == b


def test_rows_stay_paired_when_shuffled():
    for x, y in DataLoader(_ds(30), batch_size=8, shuffle=True, generator=1):
        np.testing.assert_array_equal(x.numpy()[:, 0], 2 * y.numpy())


class Records(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.full(3, i, dtype=np.float32), "label": i % 2, "w": 0.5 * i,
                "name": f"r{i}", "pair": (i, float(i))}


def test_generic_dataset_default_collate_of_dicts_numbers_strings():
    batch = next(iter(DataLoader(Records(), batch_size=3)))
    assert batch["x"].shape == (3, 3) and batch["x"].dtype == gradwalk.float32
    assert batch["label"].tolist() == [0, 1, 0] and batch["label"].dtype == gradwalk.int64
    assert batch["w"].dtype == gradwalk.float64 and batch["w"].tolist() == [0.0, 0.5, 1.0]
    assert batch["name"] == ["r0", "r1", "r2"]
    assert batch["pair"][0].tolist() == [0, 1, 2] and batch["pair"][1].dtype == gradwalk.float64


def test_default_collate_namedtuple_bool_and_errors():
    P = namedtuple("P", "a b")
    out = default_collate([P(1, True), P(2, False)])
    assert isinstance(out, P) and out.a.tolist() == [1, 2] and out.b.dtype == gradwalk.bool
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="collate_fn"):
        default_collate([object(), object()])


def test_collate_fn_and_batch_size_none():
    loader = DataLoader(list(range(7)), batch_size=3, collate_fn=lambda b: sum(b))
    assert list(loader) == [3, 12, 6]
    assert list(DataLoader([4, 5], batch_size=None)) == [4, 5]


def test_tensor_dataset_batches_keep_grad_path():
    x = gradwalk.randn(6, 2, requires_grad=True)
    ds = TensorDataset(x, gradwalk.arange(6))
    xb, _ = next(iter(DataLoader(ds, batch_size=3, shuffle=True, generator=0)))
    xb.sum().backward()
    assert x.grad.sum().item() == pytest.approx(6.0)


def test_tensor_dataset_validation_and_indexing():
    ds = _ds(4)
    x, y = ds[2]
    assert x.tolist() == [4.0, 5.0] and y.item() == 2
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(gradwalk.zeros(3), gradwalk.zeros(4))
    with pytest.raises(TypeError, match="tensors"):
        TensorDataset(np.zeros(3))


def test_random_split_counts_fractions_and_seed():
    a, b, c = random_split(range(10), [5, 3, 2], generator=gradwalk.Generator().manual_seed(0))
    assert (len(a), len(b), len(c)) == (5, 3, 2)
    assert sorted(list(a) + list(b) + list(c)) == list(range(10))
    parts = random_split(range(11), [0.5, 0.5], generator=gradwalk.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [6, 5]
    again = random_split(range(11), [0.5, 0.5], generator=gradwalk.Generator().manual_seed(0))
    assert list(again[0]) == list(parts[0])
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])


def test_subset_and_concat():
    s = Subset(_ds(), [9, 0])
    assert len(s) == 2 and s[0][1].item() == 9
    c = ConcatDataset([[1, 2], [3, 4, 5]])
    assert len(c) == 5 and [c[i] for i in range(5)] == [1, 2, 3, 4, 5] and c[-1] == 5
    assert len(_ds(2) + _ds(3)) == 5


def test_options_conflict():
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(_ds(), sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_ds(), batch_size=0)


def _stream(torch):
    class Count(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    class Sized(Count):
        def __len__(self):
            return 7

    DL = torch.utils.data.DataLoader
    return {"batches": [b.tolist() for b in DL(Count(), batch_size=3)],
            "dropped": [b.tolist() for b in DL(Count(), batch_size=3, drop_last=True)],
            "single": list(DL(Count(), batch_size=None)),
            "lens": [len(DL(Sized(), batch_size=3)), len(DL(Sized(), batch_size=3,
                                                            drop_last=True))],
            "errors": [error_of(lambda: len(DL(Count(), batch_size=3))),
                       error_of(lambda: DL(Count(), shuffle=True)),
                       error_of(lambda: DL(Count(), sampler=[0, 1]))]}


def test_iterable_datasets_as_pytorch():
    assert _stream(gradwalk) == oracle(_stream)
