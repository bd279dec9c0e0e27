"""Train a small MLP on the bundled handwritten digits (8x8 pixels, 10 classes).

    python examples/mlp_digits.py                  # about 97% test accuracy in seconds
    python examples/mlp_digits.py --steps 20       # a quick smoke run
    python examples/mlp_digits.py --save mlp.gw    # save a checkpoint (gradwalk.save)
"""

import argparse

import gradwalk as torch
from gradwalk import nn
from gradwalk.data import DataLoader, TensorDataset, load_digits, train_test_split


def main(argv=None):
    parser = argparse.ArgumentParser(description="MLP on handwritten digits")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="PATH", help="write a checkpoint here")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    x, y = load_digits()  # (1797, 64) floats in [0, 1], labels 0..9
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=args.seed,
                                                        stratify=y)
    mean, scale = x_train.mean(0), x_train.std(0) + 0.1  # standardize with train statistics
    x_train, x_test = (x_train - mean) / scale, (x_test - mean) / scale
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, generator=args.seed)

    model = nn.Sequential(
        nn.Linear(64, args.hidden), nn.ReLU(),
        nn.Linear(args.hidden, args.hidden), nn.ReLU(),
        nn.Linear(args.hidden, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    step = 0
    for epoch in range(args.epochs):
        model.train()
        total, batches = 0.0, 0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
            step += 1
            if args.steps is not None and step >= args.steps:
                break
        print(f"epoch {epoch + 1}: mean loss {total / batches:.4f}")
        if args.steps is not None and step >= args.steps:
            break

    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    print(f"test accuracy: {100 * accuracy:.1f}% after {step} steps")
    if args.save:
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "mean": mean, "scale": scale, "steps": step}, args.save)
        print(f"checkpoint written to {args.save}")


if __name__ == "__main__":
    main()
