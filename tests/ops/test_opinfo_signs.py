"""The OpInfo harness compares linalg.eigh's eigenvectors up to their signs, and only those
(Note [sign-free outputs] in tests/ops/opinfo.py)."""

import types

import numpy as np
import pytest

import gradwalk

opinfo = pytest.importorskip("tests.ops.opinfo")
torch = pytest.importorskip("torch")


def _entry(name):
    return types.SimpleNamespace(name=name)


def test_signs_align_flipped_columns():
    v = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 4)))[0]
    flipped = v * np.array([1.0, -1.0, -1.0, 1.0])
    signs, msg = opinfo._free_signs(_entry("linalg.eigh"), [torch.zeros(4), torch.tensor(v)],
                                    [gradwalk.zeros(4), gradwalk.tensor(flipped)])
    assert msg is None
    np.testing.assert_array_equal(flipped * signs[1], v)


def test_other_vectors_are_still_wrong():
    rng = np.random.default_rng(1)
    v = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    w = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    _, msg = opinfo._free_signs(_entry("linalg.eigh"), [torch.zeros(4), torch.tensor(v)],
                                [gradwalk.zeros(4), gradwalk.tensor(w)])
    assert msg == "output 1: columns differ beyond their signs"


def test_no_other_entry_is_compared_up_to_sign():
    v = np.eye(3)
    signs, msg = opinfo._free_signs(_entry("linalg.qr"), [torch.tensor(v), torch.tensor(v)],
                                    [gradwalk.tensor(-v), gradwalk.tensor(-v)])
    assert signs == {} and msg is None
    assert opinfo.SIGN_FREE_COLUMNS == {"linalg.eigh": 1}


def test_eigh_entry_passes_with_its_gradients_and_tangents():
    db = opinfo.load_op_db()
    (entry,) = [o for o in db if o.name == "linalg.eigh"]
    res = opinfo.check_entry(entry, torch)
    assert res.samples > 0 and res.status == "pass", res
