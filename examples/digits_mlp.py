"""Handwritten digits with an MLP: 8x8 images, 10 classes, accuracy on held-out digits.

Follows lecture 002 "Pytorch로 딥러닝 – 인공신경망 (DNN) 기초", "mnist 분류를 DNN으로": an ``nn.Sequential``
of Linear + ReLU layers, ``F.cross_entropy`` on the logits, minibatches from a ``DataLoader`` over a
``TensorDataset``, ``optim.Adam``; here on scikit-learn's bundled 8x8 digits (1438 train, 359 test) so it trains in
seconds. It reaches about 97-98% on the test digits.

    python examples/digits_mlp.py [--device cpu] [--epochs 20] [--out examples-out/digits_mlp]
"""

from __future__ import annotations

from _common import parse_args, report
from tqdm import tqdm

import engine as torch
import engine.nn as nn
import engine.nn.functional as F
import engine.optim as optim
from engine import datasets, plots
from engine.utils.data import DataLoader, TensorDataset


def main() -> None:
    args = parse_args(__doc__, epochs=20, name="digits_mlp")
    torch.manual_seed(0)
    X_train, y_train, X_test, y_test = datasets.digits()
    train = TensorDataset(torch.tensor(X_train, device=args.device), torch.tensor(y_train, device=args.device))
    loader = DataLoader(train, batch_size=64, shuffle=True)
    x_test, t_test = torch.tensor(X_test, device=args.device), torch.tensor(y_test, device=args.device)

    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).to(args.device)
    optimizer = optim.Adam(model.parameters(), lr=0.01)

    costs = []
    for epoch in tqdm(range(args.epochs), desc="digits", unit="epoch"):
        total = 0.0
        for X, Y in loader:
            optimizer.zero_grad()
            cost = F.cross_entropy(model(X), Y)
            cost.backward()
            optimizer.step()
            total += cost.item() * len(Y)
        costs.append(total / len(train))
        with torch.no_grad():
            accuracy = (model(x_test).argmax(dim=1) == t_test).float().mean().item()
        tqdm.write(f"Epoch {epoch + 1:3d}/{args.epochs}  cost = {costs[-1]:.6f}  test accuracy = {accuracy:.2%}")

    with torch.no_grad():
        predicted = model(x_test).argmax(dim=1).cpu().numpy()
    print(f"held-out accuracy: {(predicted == y_test).mean():.2%} on {len(y_test)} digits")
    report([
        plots.loss_curve(costs, args.out / "digits_mlp_loss.png", "cross entropy (train)"),
        plots.digit_grid(X_test, y_test, predicted, args.out / "digits_mlp_predictions.png"),
    ])


if __name__ == "__main__":
    main()
