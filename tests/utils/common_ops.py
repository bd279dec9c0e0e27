"""The most common ops of PyTorch's nn and training code, counted in the installed torch's own
sources; writes ``tests/utils/common_ops.txt`` (Note [the common-ops list]).

Note [the common-ops list]
--------------------------
``python -m tests.utils.common_ops`` writes the list; ``--parity`` runs the OpInfo entries of
its names and prints how many pass. The list is the names of ``TUTORIAL`` (read off the
official tutorials and examples, which the wheel does not ship), then, up to 226 names, the
most used names that the script counts: it parses (with ``ast``) the
Python sources of the installed torch that hold its nn and training code, counts every use of

- ``torch.X`` (a call or a name: ``torch.cat``, ``torch.float32`` is not an op and is dropped),
- ``F.X`` / ``torch.nn.functional.X`` and the calls of ``nn.functional``'s own functions inside
  ``functional.py``,
- ``nn.X`` / ``torch.nn.X`` module classes,
- ``<expr>.X(...)`` and ``<expr>.X`` where ``X`` is an attribute of ``torch.Tensor`` (methods and
  properties; the receiver's type is not known, so names that are also common methods of
  Python's builtins, ``add``, ``split``, ``index``... are counted only as ``torch.X``/``F.X``),

keeps the names that are public and are ops or modules (documented callables of those
namespaces, the Tensor's methods and properties; ``LEFT_OUT`` names the ones dropped, with the
reason), and ranks them by uses. The sources are ``torch/nn/modules/*.py``, ``torch/nn/functional.py``, ``torch/nn/init.py``,
``torch/nn/utils/*.py``, ``torch/optim/*.py`` (what a training loop runs) and
``torch/testing/_internal/common_nn.py`` (the module tests' model code): PyTorch's tutorials are
not in the wheel, and these files are the code that tutorials call into. The counts are in the
list (0 for a tutorial name that torch's sources do not use), so the ranking can be checked;
rerunning with another torch may change the tail.
"""

from __future__ import annotations

import ast
import collections
import pathlib
import sys

TOTAL = 226
# What the official tutorials and examples call (the 60-minute blitz, "What is torch.nn really",
# the data, transfer-learning, char-RNN, seq2seq, language-model, transformer, DCGAN, VAE,
# reinforcement-learning and MNIST/ImageNet examples), written from reading them: the wheel
# does not ship them, so these cannot be counted here.
TUTORIAL = {
    "torch": """tensor zeros ones rand randn randint arange linspace eye full zeros_like
        ones_like randn_like empty from_numpy cat stack split chunk where matmul mm bmm
        sum mean max min argmax argmin exp log sqrt abs clamp sigmoid tanh relu softmax
        flatten reshape squeeze unsqueeze transpose permute topk sort argsort multinomial
        randperm no_grad manual_seed save load equal allclose triu tril einsum norm
        outer masked_fill gather cumsum logsumexp numel add mul div pow sin cos""",
    "F": """relu softmax log_softmax cross_entropy nll_loss mse_loss l1_loss
        binary_cross_entropy binary_cross_entropy_with_logits dropout linear conv2d
        max_pool2d avg_pool2d adaptive_avg_pool2d interpolate pad one_hot gelu silu tanh
        sigmoid leaky_relu embedding normalize layer_norm batch_norm kl_div smooth_l1_loss
        cosine_similarity scaled_dot_product_attention elu logsigmoid softplus""",
    "Tensor": """shape size dim view reshape to float long int item numpy tolist backward
        grad requires_grad requires_grad_ detach clone zero_ add_ mul_ copy_ fill_ sum mean
        max min argmax squeeze unsqueeze transpose permute contiguous t T flatten expand
        repeat masked_fill eq ne gt lt ge le data device dtype numel cpu cuda type_as
        new_zeros index_select gather scatter_ topk sort softmax log_softmax exp log sqrt
        pow abs clamp norm uniform_ normal_ chunk split narrow""",
    "nn": """Linear Conv2d Conv1d ConvTranspose2d MaxPool2d AvgPool2d AdaptiveAvgPool2d
        BatchNorm1d BatchNorm2d LayerNorm GroupNorm Dropout Dropout2d Embedding LSTM GRU RNN
        LSTMCell GRUCell Transformer TransformerEncoder TransformerEncoderLayer
        MultiheadAttention ReLU LeakyReLU GELU Tanh Sigmoid Softmax LogSoftmax Flatten
        Identity CrossEntropyLoss NLLLoss MSELoss BCELoss BCEWithLogitsLoss L1Loss
        SmoothL1Loss KLDivLoss""",
}
OUT = pathlib.Path(__file__).with_name("common_ops.txt")
# methods of Python's builtins (str, list, dict, set) that Tensor has too: a call on an unknown
# receiver is more often the builtin's
AMBIGUOUS = {"add", "split", "index", "copy", "count", "sort", "values", "apply", "type",
             "get", "pop", "remove", "update", "extend", "insert", "append", "format", "join",
             "strip", "items", "keys", "reverse", "clear", "lower", "upper", "find", "replace",
             "startswith", "endswith", "encode", "decode", "real", "imag", "conjugate",
             "register_hook", "name", "names", "storage", "data_ptr", "is_shared",
             "share_memory_", "numpy", "tolist", "item", "backward", "grad_fn", "is_leaf",
             "retain_grad", "requires_grad_", "register_post_accumulate_grad_hook"}


# names the counting finds that are left out of the list, with the reason
LEFT_OUT = {
    ("torch", "view_as_real"): "complex tensors (optim's handling of complex parameters)",
    ("torch", "view_as_complex"): "complex tensors (optim's handling of complex parameters)",
}


def sources(torch) -> list[pathlib.Path]:
    root = pathlib.Path(torch.__file__).parent
    files = sorted((root / "nn" / "modules").glob("*.py"))
    files += [root / "nn" / "functional.py", root / "nn" / "init.py"]
    files += sorted((root / "nn" / "utils").glob("*.py"))
    files += sorted((root / "optim").glob("*.py"))
    files.append(root / "testing" / "_internal" / "common_nn.py")
    return [f for f in files if f.exists()]


def _chain(node) -> list[str]:
    """``torch.nn.functional.relu`` -> ``["torch", "nn", "functional", "relu"]``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return []


def count(torch) -> dict[str, collections.Counter]:
    counts = {k: collections.Counter() for k in ("torch", "F", "Tensor", "nn")}
    tensor_attrs = {n for n in dir(torch.Tensor) if not n.startswith("_")}
    fn_names = {n for n in dir(torch.nn.functional) if not n.startswith("_")}
    for path in sources(torch):
        tree = ast.parse(path.read_text())
        in_functional = path.name == "functional.py" and path.parent.name == "nn"
        for node in ast.walk(tree):
            if in_functional and isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in fn_names:
                counts["F"][node.func.id] += 1
            if not isinstance(node, ast.Attribute):
                continue
            chain = _chain(node)
            if chain[:3] == ["torch", "nn", "functional"] and len(chain) == 4:
                counts["F"][chain[3]] += 1
            elif chain[:1] == ["F"] and len(chain) == 2:
                counts["F"][chain[1]] += 1
            elif (chain[:2] == ["torch", "nn"] and len(chain) == 3) or (
                    chain[:1] == ["nn"] and len(chain) == 2):
                counts["nn"][chain[-1]] += 1
            elif chain[:1] == ["torch"] and len(chain) == 2 and not in_functional:
                counts["torch"][chain[1]] += 1
            elif node.attr in tensor_attrs and node.attr not in AMBIGUOUS and chain[:1] not in (
                    ["torch"], ["F"], ["nn"], ["math"], ["np"]):
                counts["Tensor"][node.attr] += 1
    return counts


def _keep(torch, kind: str, name: str) -> bool:
    if name.startswith("_"):
        return False
    if kind == "torch":
        obj = getattr(torch, name, None)
        return callable(obj) and bool(getattr(obj, "__doc__", None)) and not isinstance(
            obj, type) and "backward" not in name and not name.endswith("_") and not name.startswith(
            ("is_", "get_", "set_", "use_", "are_")) and name not in {
            "no_grad", "enable_grad", "set_grad_enabled", "jit", "compile", "device",
            "typename", "Size", "Generator", "manual_seed", "tensor", "as_tensor"}
    if kind == "F":
        return callable(getattr(torch.nn.functional, name, None)) and not name.startswith(
            ("has_torch_function", "handle_torch")) and name not in {
            "has_torch_function", "handle_torch_function", "boolean_dispatch", "Tensor",
            "Callable", "Optional", "List", "Union"}
    if kind == "nn":
        obj = getattr(torch.nn, name, None)
        return isinstance(obj, type) and issubclass(obj, torch.nn.Module) and name not in {
            "Module", "ModuleList", "ModuleDict", "Sequential", "ParameterList",
            "ParameterDict"}
    return hasattr(torch.Tensor, name)


def build(torch) -> list[tuple[str, str, int]]:
    """``(kind, name, uses)``: every tutorial name, then the most used names of torch's nn and
    training code up to ``TOTAL`` names."""
    counts = count(torch)
    out, seen = [], set()
    for kind, names in TUTORIAL.items():
        for n in names.split():
            if (kind, n) not in seen:
                seen.add((kind, n))
                out.append((kind, n, counts[kind][n]))
    ranked = sorted(((c, kind, n) for kind, counter in counts.items()
                     for n, c in counter.items() if (kind, n) not in seen
                     and (kind, n) not in LEFT_OUT and _keep(torch, kind, n)), key=lambda r: (-r[0], r[1], r[2]))
    for c, kind, n in ranked[:max(0, TOTAL - len(out))]:
        out.append((kind, n, c))
    return out


def render(rows) -> str:
    head = ("# the most used names of PyTorch's nn and training code, by kind, with their uses "
            "in torch's sources\n# (built by python -m tests.utils.common_ops; Note [the "
            "common-ops list])\n")
    return head + "".join(f"{kind}.{name} {uses}\n" for kind, name, uses in rows)


def read(path: pathlib.Path = OUT) -> list[tuple[str, str]]:
    """The committed list, as ``(kind, name)``."""
    rows = []
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            qualified = line.split()[0]
            kind, _, name = qualified.partition(".")
            rows.append((kind, name))
    return rows


def namespace(gradwalk, kind: str):
    """Where a name of ``kind`` lives in gradwalk (or in torch)."""
    return {"torch": gradwalk, "F": gradwalk.nn.functional, "Tensor": gradwalk.Tensor,
            "nn": gradwalk.nn}[kind]


def opinfo_entries(op_db, rows):
    """The op_db entries of the listed names: ``torch.X`` and ``Tensor.X`` are entry ``X``,
    ``F.X`` is ``nn.functional.X`` (modules have none; their parity tests are in tests/nn)."""
    wanted = {("nn.functional." + n) if k == "F" else n for k, n in rows if k != "nn"}
    return [o for o in op_db if o.name in wanted]


def parity(torch, rows=None):
    """``(entries checked, passing, [(entry, status, first problem)])`` of the listed names'
    OpInfo entries with float64 samples, through ``tests/ops/opinfo.py``."""
    from tests.ops import opinfo

    entries = opinfo_entries(opinfo.load_op_db(), read() if rows is None else rows)
    passing, problems, checked = 0, [], 0
    for o in entries:
        r = opinfo.check_entry(o, torch)
        if r.status == "no-samples":  # no float64 sample: nothing the harness can compare
            continue
        checked += 1
        if r.status == "pass":
            passing += 1
        else:
            problems.append((r.name, r.status, (r.wrong or r.raises or [(None, "")])[0][1]))
    return checked, passing, problems


def main(argv: list[str] | None = None) -> int:
    import torch

    args = sys.argv[1:] if argv is None else argv
    if "--parity" in args:
        n, ok, problems = parity(torch)
        for name, status, msg in problems:
            print(f"{name:36s} {status:8s} {msg}")
        print(f"common ops with OpInfo entries: {n}; passing: {ok} ({100 * ok / max(n, 1):.1f}%)")
        return 0
    rows = build(torch)
    OUT.write_text(render(rows))
    print(f"wrote {OUT} ({len(rows)} names, torch {torch.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
