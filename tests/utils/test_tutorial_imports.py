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
           ".autograd.functional", ".distributed", ".cuda", ".backends", ".testing", ".func",
           ".linalg", ".onnx", ".jit", ".hub", ".amp", ".nn.utils.parametrize",
           ".nn.utils.parametrizations"]

NAMES = {
    "": ["Tensor", "tensor", "manual_seed", "no_grad", "float32", "float64", "save", "load",
         "randn", "zeros", "from_numpy", "is_tensor", "inference_mode", "cuda", "device", "Size",
         "set_printoptions", "linalg", "onnx", "jit", "hub", "amp", "autocast", "backends",
         "distributed", "is_autocast_enabled", "set_default_dtype", "get_default_dtype"],
    ".nn": ["Module", "Linear", "Sequential", "ReLU", "CrossEntropyLoss", "MSELoss",
            "Parameter", "Conv2d", "functional", "LazyLinear", "LazyConv2d", "LazyBatchNorm1d",
            "UninitializedParameter", "utils"],
    ".nn.utils": ["clip_grad_norm_", "weight_norm", "spectral_norm", "remove_weight_norm",
                  "parametrizations", "parametrize", "parameters_to_vector"],
    ".nn.utils.parametrizations": ["weight_norm", "spectral_norm", "orthogonal"],
    ".nn.utils.parametrize": ["register_parametrization", "remove_parametrizations",
                              "is_parametrized", "cached"],
    ".linalg": ["norm", "inv", "solve", "eigh", "svd", "qr", "det"],
    ".backends": ["mps", "cudnn"],
    ".onnx": ["export"],
    ".jit": ["script", "trace", "is_scripting", "is_tracing", "ignore", "unused", "export",
             "save", "load"],
    ".hub": ["load", "load_state_dict_from_url", "download_url_to_file"],
    ".amp": ["autocast", "GradScaler"],
    ".nn.functional": ["relu", "cross_entropy", "softmax", "log_softmax", "mse_loss"],
    ".optim": ["SGD", "Adam", "AdamW", "lr_scheduler", "Rprop", "Adafactor"],
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


def _setup_facts(torch):
    """What a CPU-only tutorial's first lines compute with the names above."""
    device = torch.device("cuda" if torch.cuda.is_available() else
                          "mps" if torch.backends.mps.is_available() else "cpu")
    torch.manual_seed(0)
    torch.set_printoptions(precision=3)
    x = torch.ones(2, 3, device=device)
    torch.set_printoptions(profile="default")
    ds = torch.utils.data.TensorDataset(torch.arange(10.0), torch.arange(10))
    parts = torch.utils.data.random_split(ds, [0.8, 0.2])
    loader = torch.utils.data.DataLoader(torch.utils.data.Subset(ds, [0, 1, 2]), batch_size=2)
    return (str(device), str(x.device), type(x.shape).__name__, x.shape.numel(), list(x.size()),
            [len(p) for p in parts], [len(b[0]) for b in loader],
            torch.jit.is_scripting(), torch.jit.is_tracing(),
            float(torch.linalg.norm(x)), float(torch.nn.functional.relu(-x).sum()),
            hasattr(torch.nn.parallel, "DistributedDataParallel"))


def test_tutorial_setup_computes_what_pytorch_computes():
    assert _setup_facts(gradwalk) == tuple(oracle(_setup_facts))


def test_distributed_is_available_exactly_when_its_mpi_backend_is():
    """PyTorch's Linux wheels always have a backend; gradwalk's is MPI, through mpi4py."""
    import importlib.util

    has_mpi = importlib.util.find_spec("mpi4py") is not None
    assert gradwalk.distributed.is_available() is has_mpi


def test_jit_markers_run_the_model_code_as_written():
    torch = gradwalk

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 2)

        @torch.jit.ignore
        def helper(self, x):
            return x * 2

        @torch.jit.export
        def forward(self, x):
            if not torch.jit.is_scripting():
                x = self.helper(x)
            return self.fc(x)

    @torch.jit.script
    def fused(x):
        return x.relu() + 1

    net = Net()
    scripted = torch.jit.script(net)
    traced = torch.jit.trace(net, torch.ones(1, 3))
    x = torch.randn(4, 3)
    assert scripted is net and traced is net
    assert torch.equal(scripted(x), net.fc(x * 2))
    assert torch.equal(fused(x), x.relu() + 1)
    assert torch.jit.unused(fused) is fused and torch.jit.ignore(drop=True)(fused) is fused


@pytest.mark.parametrize("call", [
    lambda t: t.jit.save(t.jit.script(t.nn.Linear(2, 2)), "m.pt"),
    lambda t: t.jit.load("m.pt"),
    lambda t: t.hub.load("pytorch/vision", "resnet18"),
    lambda t: t.hub.load_state_dict_from_url("https://example.org/w.pth"),
    lambda t: t.onnx.export(t.nn.Linear(2, 2), t.ones(1, 2), "m.onnx"),
], ids=["jit.save", "jit.load", "hub.load", "hub.load_state_dict_from_url", "onnx.export"])
def test_what_needs_a_compiled_program_or_a_download_refuses_clearly(call):
    with pytest.raises(NotImplementedError, match=r"is not supported: .*state_dict|state_dict"):
        call(gradwalk)


def test_autocast_off_is_a_no_op_and_on_refuses_instead_of_changing_precision():
    def on_cpu(torch):  # PyTorch's CPU autocast computes matmul in bfloat16
        a = torch.ones(2, 2)
        with torch.autocast("cpu"):
            inside = str((a @ a).dtype)
        with torch.autocast("cpu", enabled=False):
            off = str((a @ a).dtype)
        return inside, off, torch.is_autocast_enabled()

    inside, off, enabled = oracle(on_cpu)
    assert inside == "torch.bfloat16" and off == "torch.float32" and not enabled
    a = gradwalk.ones(2, 2)
    with gradwalk.autocast("cpu", enabled=False):
        assert str(a @ a).startswith("tensor") and (a @ a).dtype == gradwalk.float32
    assert not gradwalk.is_autocast_enabled()
    with pytest.raises(NotImplementedError, match="bfloat16.*enabled=False"):
        gradwalk.autocast("cpu")
    with pytest.raises(NotImplementedError, match="enabled=False"):
        gradwalk.amp.GradScaler()
    w = gradwalk.ones(2, requires_grad=True)
    opt = gradwalk.optim.SGD([w], lr=0.25)
    scaler = gradwalk.amp.GradScaler(enabled=False)
    scaler.scale((w * w).sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert w.detach().tolist() == [0.5, 0.5] and scaler.get_scale() == 1.0
