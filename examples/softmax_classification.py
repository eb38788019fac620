"""Softmax classification: a grade 0, 1 or 2 from four scores.

Follows lecture 002 "Pytorch로 딥러닝 – 인공신경망 (DNN) 기초", 3. Softmax: the ``SoftmaxClassifierModel``
(one ``nn.Linear(4, 3)``), ``F.cross_entropy``, ``optim.SGD(lr=1)``, 1000 epochs, a log line every 100.
The lecture shows no seed; seed 1 is used (as its logistic section). With lr = 1 the cost jumps before it settles,
in the lecture as here.

    cross_entropy(z, k) = -log softmax(z)_k;   d/dz = softmax(z) - onehot(k)

    python examples/softmax_classification.py [--device cpu] [--epochs 1000] [--out examples-out/softmax_classification]
"""

from __future__ import annotations

from _common import parse_args, report
from tqdm import tqdm

import engine as torch
import engine.nn as nn
import engine.nn.functional as F
import engine.optim as optim
from engine import datasets, plots


class SoftmaxClassifierModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)  # 4 scores in, 3 class scores (logits) out

    def forward(self, x):
        return self.linear(x)


def main() -> None:
    args = parse_args(__doc__, epochs=1000, name="softmax_classification")
    torch.manual_seed(1)
    x_np, y_np = datasets.grades()
    x_train, y_train = torch.tensor(x_np, device=args.device), torch.tensor(y_np, device=args.device)

    model = SoftmaxClassifierModel().to(args.device)
    optimizer = optim.SGD(model.parameters(), lr=1)
    nb_epochs = args.epochs

    costs = []
    for epoch in tqdm(range(nb_epochs), desc="softmax", unit="epoch"):
        hypothesis = model(x_train)
        cost = F.cross_entropy(hypothesis, y_train)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        costs.append(cost.item())
        if epoch % 100 == 0:
            tqdm.write(f"Epoch {epoch}/{nb_epochs} , Cost : {cost.item()}")

    print(hypothesis)  # 예측값 (the logits)
    print(F.softmax(hypothesis, dim=1))
    print(F.softmax(hypothesis, dim=1).sum(dim=1))
    predicted = hypothesis.argmax(dim=1)
    print(f"predicted {predicted.tolist()}, true {y_train.tolist()}, "
          f"accuracy {(predicted == y_train).float().mean().item():.0%}")
    report([
        plots.loss_curve(costs, args.out / "softmax_classification_loss.png", "cross entropy (SGD, lr=1)"),
        plots.predicted_vs_true(predicted.cpu().numpy(), y_np, args.out / "softmax_classification_fit.png",
                                "grade: predicted vs true"),
    ])


if __name__ == "__main__":
    main()
