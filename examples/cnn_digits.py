"""Train a small convolutional network (Conv2d + MaxPool2d) on the 8x8 handwritten digits.

    python examples/cnn_digits.py               # about 97% test accuracy in seconds
    python examples/cnn_digits.py --steps 10    # a quick smoke run
"""

import argparse

import gradwalk as torch
from gradwalk import nn
from gradwalk.data import DataLoader, TensorDataset, load_digits, train_test_split


def make_model(channels=16):
    return nn.Sequential(
        nn.Conv2d(1, channels, kernel_size=3, padding=1),             # (N, C, 8, 8)
        nn.ReLU(),
        nn.MaxPool2d(2),                                               # (N, C, 4, 4)
        nn.Conv2d(channels, 2 * channels, kernel_size=3, padding=1),   # (N, 2C, 4, 4)
        nn.ReLU(),
        nn.MaxPool2d(2),                                               # (N, 2C, 2, 2)
        nn.Flatten(),
        nn.Linear(2 * channels * 2 * 2, 10),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description="CNN on handwritten digits")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    x, y = load_digits(flatten=False)  # (1797, 1, 8, 8): channels first, as Conv2d expects
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=args.seed,
                                                        stratify=y)
    mean, std = x_train.mean().item(), x_train.std().item()  # one scale for all pixels
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, generator=args.seed)
    model = make_model(args.channels)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer,
                                                           T_max=args.epochs * len(loader))
    loss_fn = nn.CrossEntropyLoss()

    step = 0
    done = False
    for epoch in range(args.epochs):
        model.train()
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            done = args.steps is not None and step >= args.steps
            if done:
                break
        lr = scheduler.get_last_lr()[0]
        print(f"epoch {epoch + 1}: last loss {loss.item():.4f}, lr {lr:.5f}")
        if done:
            break

    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    print(f"test accuracy: {100 * accuracy:.1f}% after {step} steps")


if __name__ == "__main__":
    main()
