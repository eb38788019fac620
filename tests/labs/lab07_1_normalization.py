"""Lab 7-1, data preprocessing: zero-centre and normalise each feature, x' = (x - mu) / sigma, with
x_train.mean(dim=0) and x_train.std(dim=0), then train the 3-input regression on the normalised inputs (20 epochs,
as in the lab). Deterministic: the lab trains nn.Linear(3, 1); here W and b are zero-initialised tensors."""
import torch
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)

x_train = torch.FloatTensor([[73, 80, 75],
                             [93, 88, 93],
                             [89, 91, 90],
                             [96, 98, 100],
                             [73, 66, 70]])
y_train = torch.FloatTensor([[152], [185], [180], [196], [142]])

mu = x_train.mean(dim=0)
sigma = x_train.std(dim=0)
norm_x_train = (x_train - mu) / sigma
print(mu)
print(sigma)
print(norm_x_train)
print(norm_x_train.mean(dim=0).abs().max() < 1e-5, (norm_x_train.std(dim=0) - 1).abs().max() < 1e-5)

W = torch.zeros((3, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)
optimizer = optim.SGD([W, b], lr=1e-1)

nb_epochs = 20
for epoch in range(nb_epochs):
    prediction = norm_x_train.matmul(W) + b
    cost = F.mse_loss(prediction, y_train)

    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    print('Epoch {:4d}/{} Cost: {:.6f}'.format(
        epoch, nb_epochs, cost.item()
    ))
