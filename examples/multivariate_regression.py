"""Multivariate linear regression: predict the final score from three quiz scores.

Follows lecture 002 "Pytorch로 딥러닝 – 인공신경망 (DNN) 기초", 0. Gradient Descent Method (and 004's
"Multivariate Linear Regression"): H(x) = x W + b with W (3, 1) and b starting at zero, cost = mean((H - y)^2),
``optim.SGD([W, b], lr=1e-5)`` for 100 epochs. Nothing is random, so the log is the lecture's: cost 29661.800781
at epoch 1 and 1.5643 at epoch 100 (to float32 rounding).

    python examples/multivariate_regression.py [--device cpu] [--epochs 100] [--out DIR]
"""

from __future__ import annotations

from _common import parse_args, report
from tqdm import tqdm

import engine as torch
import engine.optim as optim
from engine import datasets, plots


def main() -> None:
    args = parse_args(__doc__, epochs=100, name="multivariate_regression")
    x_np, y_np = datasets.quiz_scores()
    x_train, y_train = torch.tensor(x_np, device=args.device), torch.tensor(y_np, device=args.device)

    # 모델 초기화 (model initialisation): W and b from zero
    W = torch.zeros((3, 1), requires_grad=True, device=args.device)
    b = torch.zeros(1, requires_grad=True, device=args.device)
    optimizer = optim.SGD([W, b], lr=1e-5)  # lr = 0.01 already diverges (the lecture's note)
    nb_epochs = args.epochs

    costs = []
    for epoch in tqdm(range(nb_epochs), desc="multivariate", unit="epoch"):
        hypothesis = x_train.matmul(W) + b
        cost = torch.mean((hypothesis - y_train) ** 2)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        costs.append(cost.item())
        tqdm.write(f"Epoch {epoch + 1:4d}/{nb_epochs} hypothesis: {hypothesis.squeeze().detach()} "
                   f"Cost : {cost.item():.6f}")

    with torch.no_grad():
        final = (x_train.matmul(W) + b).cpu().numpy()
    report([
        plots.loss_curve(costs, args.out / "multivariate_regression_loss.png", "cost = mean((xW + b - y)^2)"),
        plots.predicted_vs_true(final, y_np, args.out / "multivariate_regression_fit.png",
                                "final score: predicted vs true"),
    ])


if __name__ == "__main__":
    main()
