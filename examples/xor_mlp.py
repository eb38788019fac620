"""XOR with a multilayer perceptron: the problem one linear layer cannot solve.

Follows lecture 004 "Experimental 1 – XOR Network": the OR program (``nn.Linear`` + ``nn.Sigmoid`` in an
``nn.Sequential``, ``nn.BCELoss``, ``optim.SGD(lr=1)``, log ``step cost`` every 100 steps, then hypothesis,
predictions and accuracy) with a hidden layer, as its Question 3 asks. The lecture's 2 hidden units sit on the
ln 2 = 0.693 plateau for ~2000 steps and can stay there; 8 hidden units learn XOR in a few hundred steps.

    python examples/xor_mlp.py [--device cpu] [--epochs 2000] [--out examples-out/xor_mlp]
"""

from __future__ import annotations

from _common import parse_args, report
from tqdm import tqdm

import engine as torch
import engine.nn as nn
import engine.optim as optim
from engine import datasets, plots


def main() -> None:
    args = parse_args(__doc__, epochs=2000, name="xor_mlp")
    torch.manual_seed(0)
    X_np, Y_np = datasets.xor()
    X, Y = torch.tensor(X_np, device=args.device), torch.tensor(Y_np, device=args.device)

    model = nn.Sequential(nn.Linear(2, 8), nn.Sigmoid(), nn.Linear(8, 1), nn.Sigmoid()).to(args.device)
    criterion = nn.BCELoss()  # -(y log p + (1 - y) log(1 - p))
    optimizer = optim.SGD(model.parameters(), lr=1)

    costs = []
    for step in tqdm(range(args.epochs), desc="xor", unit="step"):
        optimizer.zero_grad()
        hypothesis = model(X)
        cost = criterion(hypothesis, Y)
        cost.backward()
        optimizer.step()
        costs.append(cost.item())
        if step % 100 == 0:
            tqdm.write(f"{step} {cost.item()}")

    with torch.no_grad():
        hypothesis = model(X)
        predicted = (hypothesis > 0.5).float()
        accuracy = (predicted == Y).float().mean()
    print("\nHypothesis: ", hypothesis.cpu().numpy().ravel(), "\nCorrect: ", predicted.cpu().numpy().ravel(),
          "\nAccuracy: ", accuracy.item())

    def predict(grid):
        with torch.no_grad():
            return model(torch.tensor(grid, device=args.device)).cpu().numpy()

    report([
        plots.loss_curve(costs, args.out / "xor_mlp_loss.png", "BCE loss", xlabel="step"),
        plots.decision_boundary(predict, X_np, Y_np, args.out / "xor_mlp_boundary.png", "XOR: P(1) and the 0.5 line"),
    ])


if __name__ == "__main__":
    main()
