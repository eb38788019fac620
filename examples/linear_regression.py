"""Linear regression: fit y = w x + b to 1000 noisy points on y = 2x + 3.

Follows lecture 000 "Linear Regression & Neural Network", ``linear_regression.py``: x uniform in [-10, 10],
noise of std 0.2 added to x, ``nn.Linear(1, 1)``, MSE loss, ``optim.SGD``. The lecture's ``nn.L2Loss`` never
existed (MSELoss is meant) and its lr read as 1 diverges on this data, so lr = 0.01 (as tests/lectures/).

    loss = mean((w x + b - y)^2);   dloss/dw = mean(2 (w x + b - y) x),   dloss/db = mean(2 (w x + b - y))

    python examples/linear_regression.py [--device cpu] [--epochs 500] [--out examples-out/linear_regression]
"""

from __future__ import annotations

from _common import parse_args, report
from tqdm import tqdm

import engine as torch
import engine.nn as nn
import engine.optim as optim
from engine import datasets, plots


def main() -> None:
    args = parse_args(__doc__, epochs=500, name="linear_regression")
    torch.manual_seed(1)
    x_np, y_np = datasets.linear(n=1000, noise=0.2)
    x, y_noise = torch.tensor(x_np, device=args.device), torch.tensor(y_np, device=args.device)

    model = nn.Linear(1, 1).to(args.device)
    loss_func = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=0.01)

    loss_arr = []
    for i in tqdm(range(args.epochs), desc="linear regression", unit="epoch"):
        optimizer.zero_grad()
        output = model(x)
        loss = loss_func(output, y_noise)
        loss.backward()
        optimizer.step()
        loss_arr.append(loss.item())
        if i % max(1, args.epochs // 10) == 0:
            tqdm.write(f"epoch {i:4d}  loss {loss.item():.6f}")

    param_list = list(model.parameters())
    print(param_list[0].data, param_list[1].data)
    w, b = model.weight.item(), model.bias.item()
    print(f"learned y = {w:.4f} x + {b:.4f}   (true: y = 2 x + 3)")

    def predict(grid):
        with torch.no_grad():
            return model(torch.tensor(grid.reshape(-1, 1), dtype=torch.float32, device=args.device)).cpu().numpy()

    report([
        plots.loss_curve(loss_arr, args.out / "linear_regression_loss.png", "MSE loss"),
        plots.fit_1d(x_np, y_np, predict, args.out / "linear_regression_fit.png", f"y = {w:.3f} x + {b:.3f}",
                     truth=lambda g: 2 * g + 3),
    ])


if __name__ == "__main__":
    main()
