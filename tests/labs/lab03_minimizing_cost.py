"""Lab 3: minimizing cost for H(x) = Wx (no bias): the cost as a function of W (the lab plots it; here printed at a
few W), the gradient by hand, W -= lr * gradient, then the same with optim.SGD.
Deterministic: W starts at zero; manual_seed is set as in the lab but nothing is drawn."""
import numpy as np
import torch
import torch.optim as optim

torch.manual_seed(1)

x_train = torch.FloatTensor([[1], [2], [3]])
y_train = torch.FloatTensor([[1], [2], [3]])

# cost(W) over a range of W (the lab plots 1000 points of linspace(-5, 7))
W_l = np.linspace(-5, 7, 13)
cost_l = []
for W in W_l:
    hypothesis = W * x_train
    cost = torch.mean((hypothesis - y_train) ** 2)
    cost_l.append(cost.item())
print(['{:.2f}'.format(c) for c in cost_l])
print('W with the lowest cost:', W_l[int(np.argmin(cost_l))])
W_t = torch.linspace(-5, 7, 7)
print(W_t)

# gradient descent by hand
W = 0
gradient = torch.mean((W * x_train - y_train) * x_train)
print(gradient)
lr = 0.1
W -= lr * gradient
print(W)

W = torch.zeros(1)
lr = 0.1
nb_epochs = 10
for epoch in range(nb_epochs + 1):
    hypothesis = x_train * W
    cost = torch.mean((hypothesis - y_train) ** 2)
    gradient = torch.sum((W * x_train - y_train) * x_train)

    print('Epoch {:4d}/{} W: {:.3f}, Cost: {:.6f}'.format(
        epoch, nb_epochs, W.item(), cost.item()
    ))

    W -= lr * gradient

# the same with torch.optim
W = torch.zeros(1, requires_grad=True)
optimizer = optim.SGD([W], lr=0.15)

nb_epochs = 10
for epoch in range(nb_epochs + 1):
    hypothesis = x_train * W
    cost = torch.mean((hypothesis - y_train) ** 2)

    print('Epoch {:4d}/{} W: {:.3f} Cost: {:.6f}'.format(
        epoch, nb_epochs, W.item(), cost.item()
    ))

    optimizer.zero_grad()
    cost.backward()
    optimizer.step()
