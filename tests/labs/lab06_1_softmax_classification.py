"""Lab 6-1: softmax classification: F.softmax, the cross-entropy with a one-hot matrix made by scatter_, the same
with F.log_softmax, F.nll_loss and F.cross_entropy, then training on the lab's 8 samples of 4 features (1000 epochs,
logged every 100, as in the lab) with the cost by hand and with F.cross_entropy.
Deterministic: the lab draws z with torch.rand(3, 5) and y with torch.randint; here they are written out (the
random version is lab06_1_softmax_module.py), and W and b start at zero."""
import torch
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)

z = torch.FloatTensor([1, 2, 3])
hypothesis = F.softmax(z, dim=0)
print(hypothesis)
print(hypothesis.sum())

z = torch.FloatTensor([[0.75, 0.26, 0.49, 0.14, 0.92],
                       [0.05, 0.63, 0.37, 0.88, 0.21],
                       [0.58, 0.10, 0.96, 0.42, 0.33]])
z.requires_grad_(True)
hypothesis = F.softmax(z, dim=1)
print(hypothesis)
y = torch.LongTensor([0, 2, 1])
print(y)

y_one_hot = torch.zeros_like(hypothesis)
y_one_hot.scatter_(1, y.unsqueeze(1), 1)
print(y_one_hot)

cost = (y_one_hot * -torch.log(hypothesis)).sum(dim=1).mean()
print(cost)
print(torch.log(F.softmax(z, dim=1)))
print(F.log_softmax(z, dim=1))
print((y_one_hot * -torch.log(F.softmax(z, dim=1))).sum(dim=1).mean())
print((y_one_hot * -F.log_softmax(z, dim=1)).sum(dim=1).mean())
print(F.nll_loss(F.log_softmax(z, dim=1), y))
print(F.cross_entropy(z, y))
F.cross_entropy(z, y).backward()
print(z.grad)

x_train = [[1, 2, 1, 1],
           [2, 1, 3, 2],
           [3, 1, 3, 4],
           [4, 1, 5, 5],
           [1, 7, 5, 5],
           [1, 2, 5, 6],
           [1, 6, 6, 6],
           [1, 7, 7, 7]]
y_train = [2, 2, 2, 1, 1, 1, 0, 0]
x_train = torch.FloatTensor(x_train)
y_train = torch.LongTensor(y_train)

# low level: one-hot and the cost by hand
W = torch.zeros((4, 3), requires_grad=True)
b = torch.zeros(1, requires_grad=True)
optimizer = optim.SGD([W, b], lr=0.1)

nb_epochs = 1000
for epoch in range(nb_epochs + 1):
    hypothesis = F.softmax(x_train.matmul(W) + b, dim=1)
    y_one_hot = torch.zeros_like(hypothesis)
    y_one_hot.scatter_(1, y_train.unsqueeze(1), 1)
    cost = (y_one_hot * -torch.log(hypothesis)).sum(dim=1).mean()

    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    if epoch % 100 == 0:
        print('Epoch {:4d}/{} Cost: {:.6f}'.format(
            epoch, nb_epochs, cost.item()
        ))

# F.cross_entropy
W = torch.zeros((4, 3), requires_grad=True)
b = torch.zeros(1, requires_grad=True)
optimizer = optim.SGD([W, b], lr=0.1)

for epoch in range(nb_epochs + 1):
    z = x_train.matmul(W) + b
    cost = F.cross_entropy(z, y_train)

    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    if epoch % 100 == 0:
        print('Epoch {:4d}/{} Cost: {:.6f}'.format(
            epoch, nb_epochs, cost.item()
        ))

prediction = F.softmax(x_train.matmul(W) + b, dim=1)
print(prediction.argmax(dim=1))
print((prediction.argmax(dim=1) == y_train).float().mean())
