"""Logistic regression: pass or fail from hours of lecture and of lab.

Follows lecture 002 "Pytorch로 딥러닝 – 인공신경망 (DNN) 기초", 2. Logistic Regression 코드 구현:
H(x) = sigmoid(x W + b), W and b from zero, cost = F.binary_cross_entropy(H, y)
= -mean(y log H + (1 - y) log(1 - H)), ``optim.SGD([W, b], lr=0.05)``, 1000 epochs. Nothing is random, so the
costs are the lecture's (epoch 375: 0.35680938).

    d cost / d (xW + b) = H - y   (the sigmoid's derivative H (1 - H) cancels the log's 1/H)

    python examples/logistic_regression.py [--device cpu] [--epochs 1000] [--out examples-out/logistic_regression]
"""

from __future__ import annotations

from _common import parse_args, report
from tqdm import tqdm

import engine as torch
import engine.nn.functional as F
import engine.optim as optim
from engine import datasets, plots


def main() -> None:
    args = parse_args(__doc__, epochs=1000, name="logistic_regression")
    x_np, y_np = datasets.study_hours()
    x_train, y_train = torch.tensor(x_np, device=args.device), torch.tensor(y_np, device=args.device)
    print(x_train.shape)
    print(y_train.shape)

    W = torch.zeros([2, 1], requires_grad=True, device=args.device)
    b = torch.zeros([1], requires_grad=True, device=args.device)
    nb_epochs = args.epochs
    optimizer = optim.SGD([W, b], lr=0.05)

    costs = []
    for epoch in tqdm(range(nb_epochs), desc="logistic", unit="epoch"):
        hypothesis = torch.sigmoid(x_train.matmul(W) + b)
        cost = F.binary_cross_entropy(hypothesis, y_train)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        costs.append(cost.item())
        if (epoch + 1) % 100 == 0 or 375 <= epoch + 1 <= 378:  # 375-378: the epochs the lecture's slide shows
            tqdm.write(f"Epochs : {epoch + 1}/{nb_epochs} Cost : {cost}")

    print(hypothesis)  # 훈련된 모델의 예측값 (the trained model's predictions)
    print(y_train)     # 실제 값 (the true values)
    prediction = (hypothesis > 0.5).float()
    print(f"accuracy {(prediction == y_train).float().mean().item():.0%}")

    def predict(grid):
        with torch.no_grad():
            return torch.sigmoid(torch.tensor(grid, device=args.device).matmul(W) + b).cpu().numpy()

    report([
        plots.loss_curve(costs, args.out / "logistic_regression_loss.png", "binary cross entropy"),
        plots.decision_boundary(predict, x_np, y_np, args.out / "logistic_regression_boundary.png",
                                "P(pass) over (lecture hours, lab hours)"),
    ])


if __name__ == "__main__":
    main()
