# Lecture: 004 "Experimental 1 – OR Network (1)/(2)" (seed 004, lines 2230-2305).
# The lecture shows this code but not its output.
# OCR fixes: the X and Y data lines are blank in the OCR ("X = ", "Y = "); filled in from the OR truth table on
# the Question 1 slide (seed 004, lines 2382-2386). The optional "print the weights" snippet is placed after
# training (its condition follows the shortened loop). Shortened: 1001 steps instead of the lecture's 10001.
# Dropped: the device lines (device = 'cuda' if ..., torch.cuda.manual_seed_all, .to(device)); this runs on CPU.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

# for reproducibility
torch.manual_seed(777)

X = torch.FloatTensor([[0, 0], [0, 1], [1, 0], [1, 1]])
Y = torch.FloatTensor([[0], [1], [1], [1]])

# nn layers
linear = torch.nn.Linear(2, 1, bias=True)
sigmoid = torch.nn.Sigmoid()

# model
model = torch.nn.Sequential(linear, sigmoid)

# define cost/loss & optimizer
criterion = torch.nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1)

for step in range(1001):  # lecture: range(10001); shortened to keep the run under 2 s
    optimizer.zero_grad()
    hypothesis = model(X)

    # cost/loss function
    cost = criterion(hypothesis, Y)
    cost.backward()
    optimizer.step()

    if step % 100 == 0:
        print(step, cost.item())

# Accuracy computation
# True if hypothesis>0.5 else False
with torch.no_grad():
    predicted = (model(X) > 0.5).float()
    accuracy = (predicted == Y).float().mean()
    print('\nHypothesis: ', hypothesis.detach().cpu().numpy(), '\nCorrect: ', predicted.detach().cpu().numpy(), '\nAccuracy: ', accuracy.item())

if step % 1000 == 0:  # lecture: step % 10000 (its last step)
    for param in model.parameters():
        print(param.data)
