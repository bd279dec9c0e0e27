"""The demo: the autograd lesson, then a small network trained end to end on real data.

``python -m gradwalk demo`` (or plain ``python -m gradwalk``) prints the lesson, trains an MLP on
the bundled handwritten digits with a progress bar, reports the test accuracy, and saves a
loss-curve PNG when matplotlib is installed. ``--quick`` trains briefly (for smoke tests).

Example:
    >>> from gradwalk import demo
    >>> result = demo.train(dataset="moons", epochs=2, hidden=16, print_fn=lambda s: None,
    ...                     progress=False)
    >>> 0.0 <= result["test_accuracy"] <= 1.0
    True
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from typing import Any

DATASETS = ("digits", "moons", "spirals")
DEFAULT_PLOT = "gradwalk-demo-loss.png"

#: Per dataset: epochs, learning rate, and a sentence for the report.
_SETTINGS = {
    "digits": dict(epochs=10, lr=3e-3, about="1,797 handwritten digits, 8x8 pixels, 10 classes"),
    "moons": dict(epochs=20, lr=1e-2, about="two interleaving half moons, 2-D points, 2 classes"),
    "spirals": dict(epochs=80, lr=1e-2, about="three interleaved spirals, 2-D points, 3 classes"),
}


#: Upper bounds that keep the demo a demo: larger values are refused with a message.
MAX_HIDDEN = 4096
MAX_LR = 10.0
MAX_SEED = 2**64 - 1
#: Image formats ``--plot`` can write (matplotlib's Agg canvas); no extension means ``.png``.
PLOT_FORMATS = (".png", ".pdf", ".svg", ".svgz", ".jpg", ".jpeg", ".webp", ".tif", ".tiff",
                ".eps", ".ps")


def build_parser() -> argparse.ArgumentParser:
    """The demo's command-line options (checked by ``parse_args``).

    Example:
        >>> build_parser().parse_args(["--quick", "--dataset", "moons"]).dataset
        'moons'
    """
    from .cli.options import ArgumentParser, HelpFormatter, program

    p = ArgumentParser(
        prog=program("demo"), formatter_class=HelpFormatter,
        description="The autograd lesson, then an MLP trained on a bundled dataset.")
    p.add_argument("--dataset", choices=DATASETS, default="digits", help="what to train on")
    p.add_argument("--hidden", type=int, default=64,
                   help=f"hidden units per layer, 1 to {MAX_HIDDEN}")
    p.add_argument("--epochs", type=int, default=None,
                   help="passes over the training set (default: 10 digits, 20 moons, "
                        "80 spirals; 3 with --quick)")
    p.add_argument("--seed", type=int, default=0, help="random seed, 0 to 2**64 - 1")
    p.add_argument("--lr", type=float, default=None,
                   help="Adam learning rate, in (0, 10] (default: 0.003 digits, 0.01 moons "
                        "and spirals)")
    p.add_argument("--batch-size", type=int, default=32, help="minibatch size")
    p.add_argument("--no-plot", action="store_true", help="do not write the loss-curve plot")
    p.add_argument("--plot", default=None, metavar="PATH",
                   help=f"where to write the loss-curve plot: a file (.png when it has no "
                        f"extension) or a directory (default: ./{DEFAULT_PLOT})")
    p.add_argument("--no-lesson", action="store_true", help="skip the lesson, only train")
    p.add_argument("--compile", action="store_true", help="run the training step compiled "
                   "(gradwalk.compile)")
    p.add_argument("--quick", action="store_true",
                   help="a short run (3 epochs): checks that everything works")
    p.add_argument("--distributed", action="store_true",
                   help="train data parallel on the processes of an MPI job (start it with "
                        "python -m gradwalk.distributed.run -n 2 -m gradwalk demo --distributed)")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and check the demo's options; ``UsageError`` (one line) for bad values.

    ``args.plot`` becomes the file the plot goes to (``None`` with ``--no-plot``), and
    ``args.plot_note`` says what was added to the path the user gave.

    Example:
        >>> parse_args(["--quick"]).epochs
        3
        >>> parse_args(["--lr", "0"])
        Traceback (most recent call last):
        ...
        gradwalk.cli.options.UsageError: --lr must be a positive number up to 10 (got 0.0)
    """
    from .cli.options import UsageError

    args = build_parser().parse_args(argv)
    if args.quick and args.epochs is None:
        args.epochs = 3
    problems = []
    if args.epochs is not None and args.epochs < 1:
        problems.append(f"--epochs must be at least 1 (got {args.epochs})")
    if not 1 <= args.hidden <= MAX_HIDDEN:
        problems.append(f"--hidden must be between 1 and {MAX_HIDDEN} (got {args.hidden})")
    if args.batch_size < 1:
        problems.append(f"--batch-size must be at least 1 (got {args.batch_size})")
    if args.lr is not None and not 0 < args.lr <= MAX_LR:  # also refuses nan
        problems.append(f"--lr must be a positive number up to {MAX_LR:g} (got {args.lr})")
    if not 0 <= args.seed <= MAX_SEED:
        problems.append(f"--seed must be between 0 and 2**64 - 1 (got {args.seed})")
    if problems:
        raise UsageError("; ".join(problems))
    args.plot, args.plot_note = _plot_path(args.plot, args.no_plot)
    return args


def _plot_path(given: str | None, no_plot: bool) -> tuple[str | None, str]:
    """Where the plot goes, checked before training starts, and a note on what was added."""
    from .cli.options import UsageError

    if no_plot:
        if given is not None:
            raise UsageError(f"--no-plot and --plot {given} contradict each other: give one")
        return None, ""
    path, note = (DEFAULT_PLOT, "") if given is None else (os.path.expanduser(given), "")
    if os.path.isdir(path):
        path, note = os.path.join(path, DEFAULT_PLOT), f" (--plot {given} is a directory)"
    elif path.endswith(("/", os.sep)):
        raise UsageError(f"--plot {given}: the directory does not exist")
    ext = os.path.splitext(path)[1]
    if not ext:
        path, note = path + ".png", f" (.png added to --plot {given})"
    elif ext.lower() not in PLOT_FORMATS:
        raise UsageError(f"--plot {given}: unknown image format {ext!r}; use one of "
                         f"{', '.join(PLOT_FORMATS)} (no extension means .png)")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--plot {given}: the directory {folder} does not exist")
    if not os.access(folder, os.W_OK):
        where = f"--plot {given}" if given is not None else f"the plot ./{DEFAULT_PLOT}"
        raise UsageError(f"{where}: the directory {folder} is not writable (use --plot PATH "
                         "or --no-plot)")
    return path, note


def load_dataset(name: str, seed: int = 0, *, standardize: bool = True):
    """``(x_train, x_test, y_train, y_test, n_classes)`` for one of ``DATASETS``.

    A stratified 80/20 split; features are standardized with the training set's mean and
    standard deviation (plus 0.1, so constant pixels stay finite).

    Example:
        >>> x_tr, x_te, y_tr, y_te, k = load_dataset("digits")
        >>> x_tr.shape, x_te.shape, k
        (gradwalk.Size([1438, 64]), gradwalk.Size([359, 64]), 10)
    """
    from . import data

    if name == "digits":
        x, y = data.load_digits()
        k = 10
    elif name == "moons":
        x, y = data.make_moons(1000, noise=0.15, seed=seed)
        k = 2
    elif name == "spirals":
        x, y = data.make_spirals(900, classes=3, noise=0.15, seed=seed)
        k = 3
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {DATASETS}")
    x_tr, x_te, y_tr, y_te = data.train_test_split(x, y, test_size=0.2, seed=seed, stratify=y)
    if standardize:  # statistics of the training set only: the test set stays unseen
        mean, scale = x_tr.mean(0), x_tr.std(0) + 0.1
        x_tr, x_te = (x_tr - mean) / scale, (x_te - mean) / scale
    return x_tr, x_te, y_tr, y_te, k


def make_mlp(n_in: int, hidden: int, n_out: int):
    """``Linear -> ReLU -> Linear -> ReLU -> Linear``.

    Example:
        >>> make_mlp(64, 32, 10)[0]
        Linear(in_features=64, out_features=32, bias=True)
    """
    from . import nn

    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                         nn.ReLU(), nn.Linear(hidden, n_out))


def accuracy(model, x, y) -> float:
    """Fraction of rows of ``x`` whose arg-max logit is the label in ``y``.

    Example:
        >>> import gradwalk
        >>> accuracy(lambda x: x, gradwalk.eye(3), gradwalk.tensor([0, 1, 1]))
        0.6666666666666666
    """
    from .autograd.grad_mode import no_grad

    with no_grad():
        pred = model(x).argmax(dim=1)
    return int((pred == y).sum().item()) / int(y.shape[0])


#: Seconds between redraws of the live progress line.
REDRAW_SECONDS = 0.1


class _Progress:
    """A progress bar: tqdm when it is installed and the output is a terminal; else on a
    terminal one line per epoch that updates in place (``\\r``) as the steps run; else (a pipe,
    a file, a custom ``print_fn``) one plain line per epoch: loss, training accuracy, steps/s."""

    def __init__(self, total: int, enabled: bool, print_fn: Callable[[str], Any],
                 epochs: int = 1) -> None:
        self.total, self.enabled, self.print_fn = total, enabled, print_fn
        self.epochs = max(epochs, 1)
        self.done, self.start = 0, time.perf_counter()
        self.info: dict[str, str] = {}
        self.bar = None
        self.live = False
        self.drawn = 0  # length of the live line on screen (0: none)
        self.last_draw = 0.0
        self.losses: list[float] = []
        if not enabled or print_fn is not print or not sys.stdout.isatty():
            return
        try:
            from tqdm import tqdm
        except ImportError:
            self.live = True
            return
        self.bar = tqdm(total=total, unit="step", desc="training", file=sys.stdout,
                        dynamic_ncols=True, leave=True)

    def _line(self, epoch: int, loss: float, acc: float | None) -> str:
        rate = self.done / max(time.perf_counter() - self.start, 1e-9)
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        tail = f"train acc {100 * acc:5.1f}%" if acc is not None else \
            f"step {self.done}/{self.total}"
        return (f"[{'#' * filled}{'.' * (width - filled)}] epoch "
                f"{epoch:>{len(str(self.epochs))}}/{self.epochs}  loss {loss:.4f}  {tail}  "
                f"{rate:,.0f} steps/s")

    def _draw(self, line: str, end: str = "") -> None:
        pad = " " * max(self.drawn - len(line), 0)
        sys.stdout.write("\r" + line + pad + end)
        sys.stdout.flush()
        self.drawn = 0 if end else len(line)

    def update(self, n: int, loss: float) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            if self.done % 10 == 0:
                self.info["loss"] = f"{loss:.4f}"
                self.bar.set_postfix(self.info, refresh=False)
        elif self.live:
            self.losses.append(loss)
            now = time.perf_counter()
            if now - self.last_draw >= REDRAW_SECONDS:
                self.last_draw = now
                per_epoch = max(self.total // self.epochs, 1)
                epoch = min((self.done - 1) // per_epoch + 1, self.epochs)
                recent = self.losses[-per_epoch:]
                self._draw(self._line(epoch, sum(recent) / len(recent), None))

    def epoch_end(self, epoch: int, epochs: int, loss: float, acc: float) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.info.update(epoch=f"{epoch}/{epochs}", acc=f"{100 * acc:.1f}%")
            self.bar.set_postfix(self.info)
            return
        self.epochs = epochs
        self.losses.clear()
        if self.live:
            self._draw(self._line(epoch, loss, acc), end="\n")
        else:
            self.print_fn(self._line(epoch, loss, acc))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.drawn:  # stopped mid-epoch (Ctrl-C, an error): end the live line
            sys.stdout.write("\n")
            sys.stdout.flush()
            self.drawn = 0


def train_step(model, loss_fn, opt, xb, yb, epoch: int) -> float:
    """One optimizer step on a batch; the loss as a float (``FloatingPointError`` if it is not
    finite, naming the epoch and the remedy). The demo and its distributed form share it.

    Example:
        >>> import gradwalk
        >>> model = gradwalk.nn.Linear(2, 1)
        >>> opt = gradwalk.optim.SGD(model.parameters(), lr=0.1)
        >>> loss = train_step(model, gradwalk.nn.MSELoss(), opt, gradwalk.ones(4, 2),
        ...                   gradwalk.zeros(4, 1), epoch=1)
        >>> isinstance(loss, float)
        True
    """
    loss = loss_fn(model(xb), yb)
    opt.zero_grad()
    loss.backward()
    opt.step()
    value = loss.item()
    if not math.isfinite(value):
        raise FloatingPointError(f"the loss became {value} at epoch {epoch}; try a smaller --lr")
    return value


def train(dataset: str = "digits", *, hidden: int = 64, epochs: int | None = None,
          seed: int = 0, lr: float | None = None, batch_size: int = 32,
          print_fn: Callable[[str], Any] = print, progress: bool = True,
          compile: bool = False) -> dict[str, Any]:
    """Train an MLP with Adam and cross-entropy; returns losses, accuracies and timings.

    Example:
        >>> r = train("spirals", epochs=1, hidden=8, print_fn=lambda s: None, progress=False)
        >>> sorted(r)[:3]
        ['dataset', 'epochs', 'losses']
    """
    import gradwalk

    from . import nn, optim
    from .data import DataLoader, TensorDataset

    settings = _SETTINGS[dataset]
    epochs = settings["epochs"] if epochs is None else epochs
    lr = settings["lr"] if lr is None else lr
    if epochs < 1 or hidden < 1 or batch_size < 1 or not lr > 0:
        raise ValueError("epochs, hidden and batch size must be positive, and lr > 0")
    gradwalk.manual_seed(seed)
    x_tr, x_te, y_tr, y_te, k = load_dataset(dataset, seed)
    model = make_mlp(x_tr.shape[1], hidden, k)
    n_params = sum(p.numel() for p in model.parameters())
    loader = DataLoader(TensorDataset(x_tr, y_tr), batch_size=batch_size, shuffle=True,
                        generator=seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    print_fn(f"Training an MLP ({x_tr.shape[1]} -> {hidden} -> {hidden} -> {k}, "
             f"{n_params:,} parameters) on {dataset}: {settings['about']}.")
    print_fn(f"{x_tr.shape[0]} training and {x_te.shape[0]} test samples; Adam, lr {lr}, "
             f"batch size {batch_size}, {epochs} epochs, seed {seed}.")
    bar = _Progress(epochs * len(loader), progress, print_fn, epochs)
    step = gradwalk.compile(train_step) if compile else train_step
    losses: list[float] = []
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            for xb, yb in loader:
                value = step(model, loss_fn, opt, xb, yb, epoch)
                losses.append(value)
                bar.update(1, value)
            model.eval()
            recent = losses[-len(loader):]
            bar.epoch_end(epoch, epochs, sum(recent) / len(recent), accuracy(model, x_tr, y_tr))
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    test_acc = accuracy(model, x_te, y_te)
    return {"model": model, "losses": losses, "steps": len(losses), "epochs": epochs,
            "seconds": seconds, "train_accuracy": accuracy(model, x_tr, y_tr),
            "test_accuracy": test_acc, "dataset": dataset, "steps_per_epoch": len(loader)}


def plot_losses(losses: list[float], path: str, steps_per_epoch: int, title: str) -> str | None:
    """Write the loss curve (per step, and its per-epoch mean) to ``path``; ``None`` without
    matplotlib.

    Example:
        >>> import os, tempfile
        >>> out = plot_losses([1.0, 0.5], os.path.join(tempfile.mkdtemp(), "l.png"), 1, "t")
        >>> out is None or os.path.exists(out)
        True
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    fig = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(range(1, len(losses) + 1), losses, lw=0.8, alpha=0.5, label="minibatch loss")
    if steps_per_epoch > 1 and len(losses) >= steps_per_epoch:
        n = len(losses) // steps_per_epoch
        means = [sum(losses[i * steps_per_epoch:(i + 1) * steps_per_epoch]) / steps_per_epoch
                 for i in range(n)]
        ax.plot([(i + 1) * steps_per_epoch for i in range(n)], means, marker="o", lw=1.5,
                label="epoch mean")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy loss")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = os.path.abspath(path)
    fig.savefig(path)
    return path


def run(argv: list[str] | None = None, print_fn: Callable[[str], Any] = print) -> int:
    """Run the demo with command-line ``argv``; returns the exit status (2: bad options, with
    one ``error:`` line on stderr before anything else is printed).

    Example:
        >>> lines = []
        >>> run(["--dataset", "moons", "--quick", "--no-plot", "--no-lesson"], lines.append)
        0
        >>> any(line.startswith("test accuracy") for line in lines)
        True
    """
    from .cli.options import UsageError, program

    try:
        args = parse_args(argv)
    except UsageError as e:
        print(f"error: {e} (see {program('demo')} --help)", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return int(e.code or 0)
    if args.distributed:
        from .distributed.demo import run_distributed

        return run_distributed(args, print_fn)
    if not args.no_lesson:
        run_lesson(print_fn)
        print_fn("")
    try:
        result = train(args.dataset, hidden=args.hidden, epochs=args.epochs, seed=args.seed,
                       lr=args.lr, batch_size=args.batch_size, print_fn=print_fn,
                       compile=args.compile)
    except FloatingPointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    rate = result["steps"] / max(result["seconds"], 1e-9)
    print_fn(f"trained {result['steps']} steps in {result['seconds']:.1f} s "
             f"({rate:,.0f} steps/s)")
    print_fn(f"train accuracy: {100 * result['train_accuracy']:.1f}%")
    print_fn(f"test accuracy: {100 * result['test_accuracy']:.1f}%")
    if args.plot is None:
        return 0
    title = f"gradwalk demo: MLP on {args.dataset} (test accuracy " \
            f"{100 * result['test_accuracy']:.1f}%)"
    try:
        path = plot_losses(result["losses"], args.plot, result["steps_per_epoch"], title)
    except OSError as e:
        print(f"error: could not write the loss curve to {args.plot}: {e.strerror or e}",
              file=sys.stderr)
        return 1
    if path is None:
        print_fn("matplotlib is not installed, so no loss-curve plot was written "
                 "(pip install matplotlib, or gradwalk[plot]).")
    else:
        print_fn(f"loss curve written to {path}{args.plot_note}")
    return 0


def run_lesson(print_fn: Callable[[str], Any] = print) -> bool:
    """Print the autograd lesson (``gradwalk.lesson.run``); ``False`` if it is not available.

    Example:
        >>> lines = []
        >>> run_lesson(lines.append)
        True
    """
    try:
        from . import lesson
    except ImportError:
        print_fn("(the lesson module gradwalk.lesson is not available in this version)")
        return False
    lesson.run(print_fn)
    return True
