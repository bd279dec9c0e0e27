"""PyTorch's op database (``op_db``) run through gradwalk: the harness and the coverage table.

For every OpInfo entry whose name gradwalk implements (``gradwalk.<name>``, ``gradwalk.nn.
functional.<name>``, ``gradwalk.linalg.<name>``..., or a Tensor method of that name), its float64
samples run in both libraries and are compared:

* the forward: shape, dtype and values of every output;
* the gradient of a random cotangent (reverse mode), for the inputs that require grad;
* the JVP of random tangents (forward mode), where the entry supports forward AD.

A sample on which gradwalk raises while torch returns is counted as ``raises`` (a gap, not a
wrong answer: gradwalk said it cannot); a sample whose numbers differ is ``wrong`` (a silent
wrong answer: the one thing that must never happen). ``tests/ops/test_opinfo_parity.py`` turns
the entries into tests; ``python -m tests.ops.opinfo`` prints the coverage table::

    python -m tests.ops.opinfo            # the table, one line per entry present
    python -m tests.ops.opinfo --summary  # the totals only
"""

from __future__ import annotations

import argparse
import types
import warnings
from dataclasses import dataclass, field

import numpy as np

import gradwalk

MAX_SAMPLES = 6  # samples compared per entry (the first ones OpInfo generates)
RTOL = 1e-7
ATOL = 1e-7


def load_op_db():
    """PyTorch's ``op_db`` (imports torch's testing internals: about 10 s)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.testing._internal.common_methods_invocations import op_db
    return op_db


# Entries whose values are random draws or uninitialized memory: only shapes and dtypes are
# compared.
RANDOM = {"empty", "empty_like", "new_empty", "empty_strided", "empty_permuted", "randn", "rand", "randint", "randn_like", "rand_like", "randint_like", "multinomial",
          "normal", "bernoulli", "uniform", "exponential", "geometric", "cauchy", "log_normal",
          "randperm", "nn.functional.dropout", "nn.functional.dropout2d",
          "nn.functional.dropout3d", "nn.functional.alpha_dropout",
          "nn.functional.feature_alpha_dropout", "nn.functional.rrelu"}


def resolve(opinfo):
    """The gradwalk callable for an OpInfo entry, or None when gradwalk lacks it.

    An entry whose ``op`` is a Python function of torch's test suite (a lambda such as
    ``lambda self, condition, other: torch.where(condition, self, other)``) runs with ``torch``
    bound to gradwalk, so the argument order is the entry's own; otherwise the name is looked up
    in gradwalk's namespaces, then among Tensor methods.
    """
    parts = opinfo.name.split(".")
    if not _has_name(parts):
        return None
    op = opinfo.op
    if isinstance(op, types.FunctionType) and op.__module__.startswith("torch.testing"):
        return types.FunctionType(op.__code__, {**op.__globals__, "torch": gradwalk},
                                  op.__name__, op.__defaults__, op.__closure__)
    return _lookup(parts)


def _has_name(parts) -> bool:
    if _lookup(parts) is not None:
        return True
    return len(parts) == 1 and hasattr(gradwalk.Tensor, parts[0])


def _lookup(parts):
    obj = gradwalk
    for p in parts:
        obj = getattr(obj, p, None)
        if obj is None:
            break
    if obj is not None and callable(obj):
        return obj
    if len(parts) == 1 and hasattr(gradwalk.Tensor, parts[0]):
        name = parts[0]
        return lambda self, *args, **kwargs: getattr(self, name)(*args, **kwargs)
    return None


def _dtype_to_gw(dt):
    return getattr(gradwalk, str(dt).split(".")[-1], None)


def to_gw(obj, torch):
    """torch values (nested) as gradwalk values: tensors copied, dtypes mapped, sizes as tuples."""
    if isinstance(obj, torch.Tensor):
        arr = obj.detach().numpy().copy()
        t = gradwalk.tensor(arr, requires_grad=obj.requires_grad)
        # a non-leaf in torch (an in-place sample) is a non-leaf here too
        return t.clone() if obj.grad_fn is not None else t
    if isinstance(obj, torch.dtype):
        gw = _dtype_to_gw(obj)
        if gw is None:
            raise NotImplementedError(f"dtype {obj}")
        return gw
    if isinstance(obj, torch.Size):
        return tuple(obj)
    if isinstance(obj, tuple):
        return tuple(to_gw(o, torch) for o in obj)
    if isinstance(obj, list):
        return [to_gw(o, torch) for o in obj]
    if isinstance(obj, dict):
        return {k: to_gw(v, torch) for k, v in obj.items()}
    if isinstance(obj, torch.memory_format):  # torch.channels_last -> gradwalk.channels_last
        fmt = getattr(gradwalk, str(obj).rpartition(".")[2], None)
        if fmt is None:
            raise NotImplementedError(f"argument {obj!r}")
        return fmt
    if isinstance(obj, torch.device):
        if obj.type != "cpu":
            raise NotImplementedError(f"argument {obj!r}")
        return gradwalk.device("cpu")
    if isinstance(obj, torch.nn.Module) and not any(True for _ in obj.parameters()):
        # a parameter-free torch layer as an argument (a distance function): gradwalk's own
        cls = getattr(gradwalk.nn, type(obj).__name__, None)
        if cls is None:
            raise NotImplementedError(f"argument {obj!r}")
        mod = cls()
        for k, v in vars(obj).items():
            if not k.startswith("_"):
                setattr(mod, k, v)
        return mod
    return obj


def _leaves(obj, kind):
    """The tensors (of either library) in a nested value, in order."""
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _leaves(o, kind)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _leaves(o, kind)]
    return [obj] if isinstance(obj, kind) else []


@dataclass
class Result:
    """The outcome of one OpInfo entry."""

    name: str
    samples: int = 0
    passed: int = 0
    wrong: list = field(default_factory=list)  # (sample index, what differed)
    raises: list = field(default_factory=list)  # (sample index, gradwalk's error)

    @property
    def status(self) -> str:
        if self.wrong:
            return "wrong"
        if self.raises:
            return "raises"
        return "pass" if self.samples else "no-samples"


def _np(t):
    if getattr(t, "_is_zerotensor", None) is not None and t._is_zerotensor():
        return np.zeros(tuple(t.shape), dtype=str(t.dtype).split(".")[-1])  # torch's ZeroTensor
    if hasattr(t, "resolve_conj"):  # torch's lazy conjugate (``ihfft``): gradwalk has none
        t = t.resolve_conj().resolve_neg()
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _compare(tv, gv, what, values=True):
    """None when equal, else a short description of the difference."""
    tn, gn = _np(tv), _np(gv)
    if tuple(tn.shape) != tuple(gn.shape):
        return f"{what}: shape {list(gn.shape)}, torch {list(tn.shape)}"
    if str(tn.dtype) != str(gn.dtype):
        return f"{what}: dtype {gn.dtype}, torch {tn.dtype}"
    if not values:
        return None
    if tn.dtype.kind in "fc":
        if not np.allclose(gn, tn, rtol=RTOL, atol=ATOL, equal_nan=True):
            err = np.nanmax(np.abs(gn - tn)) if gn.size else 0
            return f"{what}: values differ (max abs err {err:.3g})"
    elif not np.array_equal(gn, tn):
        return f"{what}: values differ"
    return None


def _outputs(out, kind):
    if isinstance(out, kind):
        return [out]
    if isinstance(out, (tuple, list)):
        return _leaves(out, kind)
    return []


def check_sample(opinfo, fn, sample, torch, rng):
    """Compare one sample. Returns ("pass"|"wrong"|"raises"|"skip", message)."""
    targs = (sample.input, *sample.args)
    tkw = dict(sample.kwargs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tout = opinfo.op(*targs, **tkw)
    except Exception:  # torch refuses the sample: nothing to compare
        return "skip", ""
    try:
        gargs = to_gw(targs, torch)
        gkw = to_gw(tkw, torch)
    except NotImplementedError as e:
        return "raises", f"conversion: {e}"
    try:
        gout = fn(*gargs, **gkw)
    except Exception as e:
        return "raises", f"forward: {type(e).__name__}: {str(e)[:120]}"
    touts = _outputs(tout, torch.Tensor)
    gouts = _outputs(gout, gradwalk.Tensor)
    if not touts and not isinstance(tout, torch.Tensor):
        if isinstance(tout, (bool, int, float)) and tout != gout and not (
                isinstance(tout, float) and np.isnan(tout) and np.isnan(gout)):
            return "wrong", f"forward: {gout!r}, torch {tout!r}"
        return "pass", ""
    if len(touts) != len(gouts):
        return "wrong", f"forward: {len(gouts)} outputs, torch {len(touts)}"
    # a sample with dropout (``scaled_dot_product_attention(dropout_p=0.5)``) draws too
    random = opinfo.name in RANDOM or sample.kwargs.get("dropout_p", 0.0) > 0.0
    signs, d = _free_signs(opinfo, touts, gouts)
    if d:
        return "wrong", "forward " + d
    for k, (t, g) in enumerate(zip(touts, gouts)):
        # random draws: the shape and dtype must agree, the values cannot
        g = _np(g) * signs[k] if k in signs else g
        d = _compare(t, g, f"output {k}", values=not random)
        if d:
            return "wrong", "forward " + d
    # reverse mode
    tin = [t for t in _leaves(targs, torch.Tensor) + _leaves(tkw, torch.Tensor)
           if t.requires_grad]
    gin = [t for t in _leaves(gargs, gradwalk.Tensor) + _leaves(gkw, gradwalk.Tensor)
           if t.requires_grad]
    diff_outs = [(t, g) for t, g in zip(touts, gouts)
                 if t.requires_grad and t.dtype.is_floating_point]
    # a sign-free output's cotangent flips with it, so both sides differentiate one function
    flips = [signs.get(k, 1.0) for k, t in enumerate(touts)
             if t.requires_grad and t.dtype.is_floating_point]
    if random:
        return "pass", ""
    if opinfo.supports_autograd and tin and diff_outs:
        cots = [rng.standard_normal(tuple(t.shape)) for t, _ in diff_outs]
        tg = torch.autograd.grad([t for t, _ in diff_outs], tin,
                                 [torch.tensor(c) for c in cots], allow_unused=True)
        try:
            if len(gin) != len(tin):
                return "wrong", f"backward: {len(gin)} inputs require grad, torch {len(tin)}"
            gg = gradwalk.autograd.grad([g for _, g in diff_outs], gin,
                                        [gradwalk.tensor(c * f) for c, f in zip(cots, flips)],
                                        allow_unused=True)
        except Exception as e:
            return "raises", f"backward: {type(e).__name__}: {str(e)[:120]}"
        for k, (a, b) in enumerate(zip(tg, gg)):
            if a is None and b is None:
                continue
            a = torch.zeros_like(tin[k]) if a is None else a
            b = np.zeros(tin[k].shape) if b is None else b
            d = _compare(a, b, f"grad of input {k}")
            if d:
                return "wrong", d
    # forward mode
    if opinfo.supports_forward_ad and tin and diff_outs:
        r = _check_jvp(opinfo, fn, targs, tkw, torch, rng, signs)
        if r is not None:
            return r
    return "pass", ""


def _check_jvp(opinfo, fn, targs, tkw, torch, rng, signs=None):
    import torch.autograd.forward_ad as tfw

    import gradwalk.autograd.forward_ad as gfw

    tangents = {}

    def make(obj, lib_tensor, make_dual, tensor_of):
        if isinstance(obj, lib_tensor) and obj.requires_grad and obj.is_floating_point():
            k = len(tangents_order)
            tangents_order.append(k)
            if k not in tangents:
                tangents[k] = rng.standard_normal(tuple(obj.shape))
            return make_dual(obj.detach(), tensor_of(tangents[k]))
        if isinstance(obj, tuple):
            return tuple(make(o, lib_tensor, make_dual, tensor_of) for o in obj)
        if isinstance(obj, list):
            return [make(o, lib_tensor, make_dual, tensor_of) for o in obj]
        if isinstance(obj, dict):
            return {k: make(v, lib_tensor, make_dual, tensor_of) for k, v in obj.items()}
        return obj

    tangents_order: list = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with tfw.dual_level():
                a = make(targs, torch.Tensor, tfw.make_dual, torch.tensor)
                kw = make(tkw, torch.Tensor, tfw.make_dual, torch.tensor)
                tout = opinfo.op(*a, **kw)
                tt = [tfw.unpack_dual(o).tangent for o in _outputs(tout, torch.Tensor)]
        except Exception:
            return None  # torch has no forward AD for this sample
    tangents_order = []
    gargs = to_gw(targs, torch)
    gkw = to_gw(tkw, torch)
    try:
        with gfw.dual_level():
            a = make(gargs, gradwalk.Tensor, gfw.make_dual, gradwalk.tensor)
            kw = make(gkw, gradwalk.Tensor, gfw.make_dual, gradwalk.tensor)
            gout = fn(*a, **kw)
            gt = [gfw.unpack_dual(o).tangent for o in _outputs(gout, gradwalk.Tensor)]
    except Exception as e:
        return "raises", f"jvp: {type(e).__name__}: {str(e)[:120]}"
    for k, (x, y) in enumerate(zip(tt, gt)):
        if x is None and y is None:
            continue
        if x is None or y is None:
            # a missing tangent is a zero tangent
            ref = x if x is not None else y
            other = _np(ref)
            if np.any(other != 0):
                return "wrong", f"jvp of output {k}: {'no tangent' if y is None else 'tangent'}" \
                                f" where torch has {'one' if y is None else 'none'}"
            continue
        y = _np(y) * signs[k] if signs and k in signs else y
        d = _compare(x, y, f"jvp of output {k}")
        if d:
            return "wrong", d
    return None


# Note [sign-free outputs]
# ------------------------
# Each eigenvector of ``linalg.eigh`` is defined up to its sign, and LAPACK builds choose it
# differently (PyTorch's MKL and NumPy's OpenBLAS). For the entries below, the output at the
# given index holds such vectors as columns: each gradwalk column is compared with PyTorch's
# after multiplying it by the sign that aligns the two (the columns must agree up to that sign,
# to the harness's tolerance); the cotangent of that output is flipped the same way (so both
# libraries differentiate the same function, <C, V> = <C s, V s>), and so is its tangent. No
# other entry is compared up to sign.
SIGN_FREE_COLUMNS = {"linalg.eigh": 1}


def _free_signs(opinfo, touts, gouts):
    """``({output index: column signs}, None)``, or ``({}, message)`` when the columns are not
    the same vectors up to sign (Note [sign-free outputs])."""
    k = SIGN_FREE_COLUMNS.get(opinfo.name)
    if k is None or k >= min(len(touts), len(gouts)):
        return {}, None
    t, g = _np(touts[k]), _np(gouts[k])
    if t.shape != g.shape or t.size == 0:
        return {}, None
    dots = np.sum(t * g, axis=-2, keepdims=True)
    s = np.where(dots < 0, -1.0, 1.0)
    if not np.allclose(np.abs(dots), 1.0, rtol=RTOL, atol=1e-6):
        return {}, f"output {k}: columns differ beyond their signs"
    return {k: s}, None


def check_entry(opinfo, torch, max_samples: int = MAX_SAMPLES, dtype=None,
                check=None) -> Result:
    """Run up to ``max_samples`` samples of one entry in both libraries: float64 samples
    through ``check_sample`` unless ``dtype`` and ``check`` say otherwise (the complex128
    harness, ``opinfo_complex.py``). A sample generator that fails for the dtype ends the
    entry's samples there."""
    name = opinfo.name + (f".{opinfo.variant_test_name}" if opinfo.variant_test_name else "")
    res = Result(name)
    fn = resolve(opinfo)
    if fn is None:
        return res
    rng = np.random.default_rng(0)
    check = check_sample if check is None else check
    try:
        samples = iter(opinfo.sample_inputs("cpu", torch.float64 if dtype is None else dtype,
                                            requires_grad=True))
    except Exception:
        return res
    for i in range(max_samples):
        try:
            sample = next(samples, None)
        except Exception:  # the sample generator itself fails for this dtype
            break
        if sample is None:
            break
        status, msg = check(opinfo, fn, sample, torch, rng)
        if status == "skip":
            continue
        res.samples += 1
        if status == "pass":
            res.passed += 1
        else:
            (res.wrong if status == "wrong" else res.raises).append((i, msg))
    return res


def entries_present(op_db) -> list:
    """The entries of ``op_db`` that gradwalk has a callable for."""
    return [o for o in op_db if resolve(o) is not None and o.supports_dtype(
        __import__("torch").float64, "cpu")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="gradwalk against PyTorch's op database")
    ap.add_argument("--summary", action="store_true", help="print the totals only")
    ap.add_argument("--samples", type=int, default=MAX_SAMPLES, help="samples per entry")
    args = ap.parse_args(argv)
    import torch

    op_db = load_op_db()
    present = entries_present(op_db)
    counts = {"pass": 0, "raises": 0, "wrong": 0, "no-samples": 0}
    rows = []
    for o in present:
        r = check_entry(o, torch, args.samples)
        counts[r.status] += 1
        first = (r.wrong or r.raises or [(None, "")])[0][1]
        rows.append(f"{r.name:40s} {r.status:10s} {r.passed}/{r.samples}  {first}")
    if not args.summary:
        print("\n".join(rows))
    print(f"op_db entries: {len(op_db)}; present in gradwalk: {len(present)}; "
          f"passing: {counts['pass']}; raising on some sample: {counts['raises']}; "
          f"wrong on some sample: {counts['wrong']}; no float64 samples: {counts['no-samples']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
