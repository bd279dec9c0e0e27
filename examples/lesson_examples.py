"""The lesson's three examples, as a script to copy from.

    python examples/lesson_examples.py            # with gradwalk
    python examples/lesson_examples.py --torch    # the same code with PyTorch, same numbers

1. one input: y = x**2 + 2x + 1, dy/dx at x = 3;
2. two inputs and the chain rule: d = a*b + b**2;
3. many parameters, one loss: linear regression fitted by gradient descent.
"""

import argparse
import sys

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="gradient-descent steps (ex. 3)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (example 3)")
    parser.add_argument("--torch", action="store_true", help="run with PyTorch instead")
    args = parser.parse_args(argv)
    if args.torch:
        try:
            import torch
        except ImportError:
            print("error: --torch runs these examples with PyTorch, which is not installed "
                  "(pip install torch); without --torch they run with gradwalk",
                  file=sys.stderr)
            return 2
    else:
        import gradwalk as torch

    # 1. One input. Mark x as needing a gradient, compute, call backward().
    x = torch.tensor(3.0, requires_grad=True)
    y = x**2 + 2 * x + 1
    y.backward()
    print("1. y =", y, "  dy/dx =", x.grad, "  (by hand: 2x + 2 = 8)")

    # 2. Two inputs. b reaches d along two paths; backward() adds both contributions.
    a = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(3.0, requires_grad=True)
    c = a * b
    d = c + b**2
    d.backward()
    print("2. d =", d, "  dd/da =", a.grad, "  dd/db =", b.grad, "  (by hand: b = 3, a + 2b = 8)")

    # 3. Many parameters, one scalar loss: fit y = X @ w + b by gradient descent.
    rng = np.random.default_rng(0)
    features = rng.standard_normal((32, 3))
    targets = features @ np.array([2.0, -3.4, 1.5]) + 4.2 + 0.1 * rng.standard_normal(32)
    X = torch.tensor(features.tolist(), dtype=torch.float32)
    Y = torch.tensor(targets.tolist(), dtype=torch.float32)
    w = torch.zeros(3, requires_grad=True)
    bias = torch.tensor(0.0, requires_grad=True)
    for step in range(args.steps):
        loss = ((X @ w + bias - Y) ** 2).mean()
        loss.backward()
        with torch.no_grad():  # update the leaves without recording the update
            w -= args.lr * w.grad
            bias -= args.lr * bias.grad
        w.grad = None  # gradients accumulate: reset them before the next backward()
        bias.grad = None
        if step % 10 == 0 or step == args.steps - 1:
            print(f"3. step {step:3d}  loss {loss.item():.4f}")
    print("   w =", w.detach(), " b =", bias.detach(), "  (true: [2.0, -3.4, 1.5] and 4.2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
