"""What a CPU-only PyTorch tutorial imports exists under ``import gradwalk as torch``: the
module layout (``utils.data`` and its submodules, ``autograd.profiler``, ``nn.parallel``,
``distributed``, ``cuda``) and the names taken from it, checked against torch's own layout."""

from __future__ import annotations

import importlib

import pytest

import gradwalk
from tests.fixtures.oracle import oracle

MODULES = ["", ".nn", ".nn.functional", ".nn.init", ".nn.utils", ".nn.parallel", ".optim",
           ".optim.lr_scheduler", ".utils", ".utils.data", ".utils.data.dataloader",
           ".utils.data.dataset", ".utils.data.sampler", ".utils.data.distributed",
           ".utils.checkpoint", ".autograd", ".autograd.profiler", ".autograd.forward_ad",
           ".autograd.functional", ".distributed", ".cuda", ".backends", ".testing", ".func"]

NAMES = {
    "": ["Tensor", "tensor", "manual_seed", "no_grad", "float32", "float64", "save", "load",
         "randn", "zeros", "from_numpy", "is_tensor", "inference_mode", "cuda"],
    ".nn": ["Module", "Linear", "Sequential", "ReLU", "CrossEntropyLoss", "MSELoss",
            "Parameter", "Conv2d", "functional"],
    ".nn.functional": ["relu", "cross_entropy", "softmax", "log_softmax", "mse_loss"],
    ".optim": ["SGD", "Adam", "AdamW", "lr_scheduler"],
    ".utils.data": ["DataLoader", "Dataset", "IterableDataset", "TensorDataset", "random_split",
                    "Subset", "ConcatDataset", "Sampler", "RandomSampler", "SequentialSampler",
                    "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
                    "default_collate", "get_worker_info"],
    ".utils.data.dataloader": ["DataLoader", "default_collate", "get_worker_info"],
    ".utils.data.dataset": ["Dataset", "IterableDataset", "TensorDataset", "Subset",
                            "ConcatDataset", "random_split"],
    ".utils.data.sampler": ["Sampler", "RandomSampler", "SequentialSampler", "BatchSampler",
                            "SubsetRandomSampler", "WeightedRandomSampler"],
    ".utils.data.distributed": ["DistributedSampler"],
    ".autograd": ["Function", "grad", "backward", "gradcheck", "profiler", "forward_ad",
                  "functional"],
    ".autograd.profiler": ["profile", "record_function"],
    ".cuda": ["is_available", "device_count", "manual_seed", "manual_seed_all"],
    ".nn.parallel": ["DistributedDataParallel"],
    ".distributed": ["init_process_group", "get_rank", "get_world_size", "is_available",
                     "is_initialized"],
    ".testing": ["assert_close"],
}


def _missing(torch):
    """The modules that do not import and the names missing from those that do."""
    root = torch.__name__
    gone = []
    for m in MODULES:
        try:
            importlib.import_module(root + m)
        except ImportError:
            gone.append(m)
    for m, names in NAMES.items():
        mod = importlib.import_module(root + m)
        gone += [f"{m}.{n}" for n in names if not hasattr(mod, n)]
    return gone


def test_torch_has_them_all():
    assert oracle(_missing) == []  # the lists above are PyTorch's layout


def test_gradwalk_has_them_all():
    assert _missing(gradwalk) == []


def test_the_tutorial_import_block_runs():
    import gradwalk as torch
    import gradwalk.nn as nn
    import gradwalk.nn.functional as F
    import gradwalk.optim as optim
    from gradwalk.autograd import profiler
    from gradwalk.utils.data import DataLoader, Dataset, TensorDataset, random_split
    from gradwalk.utils.data.dataloader import DataLoader as DL2
    from gradwalk.utils.data.sampler import RandomSampler

    assert DL2 is DataLoader and issubclass(TensorDataset, Dataset)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    assert device == "cpu"
    ds = TensorDataset(torch.randn(20, 3), torch.randint(0, 2, (20,)))
    train, test = random_split(ds, [16, 4], generator=torch.Generator().manual_seed(0))
    loader = DataLoader(train, batch_size=8, sampler=RandomSampler(
        train, replacement=True, num_samples=16))
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)
    with profiler.profile() as prof:
        for xb, yb in loader:
            with profiler.record_function("step"):
                opt.zero_grad()
                F.cross_entropy(model(xb), yb).backward()
                opt.step()
    assert {e.key: e.count for e in prof.key_averages()}["step"] == 2


@pytest.mark.parametrize("obj", ["model", "optimizer"])
def test_saving_a_whole_module_is_refused_with_the_state_dict_recipe(obj, tmp_path):
    model = gradwalk.nn.Linear(2, 2)
    target = model if obj == "model" else gradwalk.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=rf"gradwalk\.save\({obj}\.state_dict\(\), path\)"):
        gradwalk.save(target, tmp_path / "x.pt")
    gradwalk.save(target.state_dict(), tmp_path / "x.pt")
    sd = gradwalk.load(tmp_path / "x.pt", weights_only=True, map_location="cpu")
    target.load_state_dict(sd)
