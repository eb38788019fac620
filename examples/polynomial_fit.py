"""A neural network fits a parabola: y = 8x^2 + 7x + 3 with lecture 000's 1-10-6-1 sigmoid net.

Follows lecture 000 "Linear Regression & Neural Network", Neural Network: 1000 points with x uniform in [-15, 15],
noise of std 0.5 on x, ``nn.Sequential(Linear(1,10), Sigmoid, Linear(10,6), Sigmoid, Linear(6,1))``,
``nn.L1Loss()``, ``optim.SGD(lr=0.001)``, 5000 full-batch epochs: exactly the lecture's recipe (it runs in a few
seconds, so nothing is scaled down).

What it shows: that recipe barely learns (the L1 loss goes from about 600 to 590; real torch does the same). L1's
gradient in each output is sign(error)/n, and the last layer sees sigmoid features in (0, 1), so one SGD step
moves the output by at most about lr * 7 = 0.007 while the targets reach 1900. ``--adam`` keeps the net and the
loss but uses ``optim.Adam(lr=0.1)``, whose per-weight step sizes fit the curve (loss about 50).

    python examples/polynomial_fit.py [--device cpu] [--epochs 5000] [--adam] [--out examples-out/polynomial_fit]
"""

from __future__ import annotations

import sys

from _common import parse_args, report
from tqdm import tqdm

import engine as torch
import engine.nn as nn
import engine.optim as optim
from engine import datasets, plots


def main() -> None:
    use_adam = "--adam" in sys.argv
    if use_adam:
        sys.argv.remove("--adam")
    args = parse_args(__doc__, epochs=5000, name="polynomial_fit")
    torch.manual_seed(1)
    x_np, y_np = datasets.polynomial(n=1000, noise=0.5, noise_on="x", seed=1)
    x, label = torch.tensor(x_np, device=args.device), torch.tensor(y_np, device=args.device)

    model = nn.Sequential(
        nn.Linear(1, 10),
        nn.Sigmoid(),
        nn.Linear(10, 6),
        nn.Sigmoid(),
        nn.Linear(6, 1),
    ).to(args.device)
    loss_func = nn.L1Loss()
    if use_adam:
        optimizer = optim.Adam(model.parameters(), lr=0.1)
    else:
        optimizer = optim.SGD(model.parameters(), lr=0.001)  # the lecture's
    print(f"optimizer: {'Adam lr=0.1' if use_adam else 'SGD lr=0.001 (the lecture)'}, {args.epochs} epochs")

    loss_arr = []
    for i in tqdm(range(args.epochs), desc="polynomial", unit="epoch"):
        output = model(x)
        optimizer.zero_grad()
        loss = loss_func(output, label)
        loss.backward()
        optimizer.step()
        loss_arr.append(loss.item())
        if i % max(1, args.epochs // 10) == 0:
            tqdm.write(f"epoch {i:5d}  L1 loss {loss.item():.4f}")

    param_list = list(model.parameters())
    print(param_list[0].data, param_list[1].data)
    print(f"final L1 loss {loss_arr[-1]:.4f}")

    def predict(grid):
        with torch.no_grad():
            return model(torch.tensor(grid.reshape(-1, 1), dtype=torch.float32, device=args.device)).cpu().numpy()

    report([
        plots.loss_curve(loss_arr, args.out / "polynomial_fit_loss.png", "L1 loss"),
        plots.fit_1d(x_np, y_np, predict, args.out / "polynomial_fit_fit.png", "1-10-6-1 sigmoid net",
                     truth=lambda g: 8 * g**2 + 7 * g + 3),
    ])


if __name__ == "__main__":
    main()
