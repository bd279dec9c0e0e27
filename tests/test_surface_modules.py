"""``gradwalk.cuda``, ``gradwalk.backends`` and ``gradwalk.onnx``: the names a CPU-only PyTorch
program touches, answered as PyTorch answers on a machine without a GPU."""

import pytest

import gradwalk
from gradwalk.backend import _cupy
from tests.fixtures.oracle import oracle


def test_cuda_queries_match_a_cpu_only_torch():
    if _cupy is not None:
        pytest.skip("CuPy is installed: the answers depend on the GPU")
    available, count = oracle(lambda torch: (torch.cuda.is_available(),
                                             torch.cuda.device_count()))
    assert gradwalk.cuda.is_available() is available is False
    assert gradwalk.cuda.device_count() == count == 0
    device = "cuda" if gradwalk.cuda.is_available() else "cpu"
    assert device == "cpu"
    for name in ("current_device", "synchronize", "get_device_name"):
        with pytest.raises(RuntimeError, match="cupy"):
            getattr(gradwalk.cuda, name)()


def test_cuda_seeding_seeds_the_generator():
    gradwalk.cuda.manual_seed_all(3)
    a = gradwalk.rand(4)
    gradwalk.cuda.manual_seed(3)
    assert bool((gradwalk.rand(4) == a).all())
    gradwalk.cuda.empty_cache()
    assert gradwalk.cuda.memory_allocated() == 0


def test_backend_flags_are_settable():
    gradwalk.backends.cudnn.benchmark = True
    gradwalk.backends.cudnn.deterministic = True
    assert gradwalk.backends.cudnn.benchmark and gradwalk.backends.cudnn.deterministic
    mps = oracle(lambda torch: torch.backends.mps.is_available())
    assert gradwalk.backends.mps.is_available() is mps is False
    assert gradwalk.backends.cudnn.is_available() is False


def test_onnx_export_says_what_to_do():
    with pytest.raises(NotImplementedError, match="state_dict"):
        gradwalk.onnx.export(gradwalk.nn.Linear(2, 2), gradwalk.zeros(1, 2), "m.onnx")
