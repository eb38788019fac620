"""Lab 6-1 as the lab writes it: z = torch.rand(3, 5), y = torch.randint(5, (3,)), the cross-entropy three ways
(one-hot by hand, F.nll_loss, F.cross_entropy: the same number), then SoftmaxClassifierModel (nn.Linear(4, 3))
trained with F.cross_entropy (1000 epochs, logged every 100).
Random: z, y and the initial weights are drawn after manual_seed(1)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)

z = torch.rand(3, 5, requires_grad=True)
hypothesis = F.softmax(z, dim=1)
print(hypothesis)
y = torch.randint(5, (3,)).long()
print(y)
y_one_hot = torch.zeros_like(hypothesis)
y_one_hot.scatter_(1, y.unsqueeze(1), 1)
print(y_one_hot)
print('by hand      : {:.6f}'.format((y_one_hot * -torch.log(F.softmax(z, dim=1))).sum(dim=1).mean().item()))
print('nll_loss     : {:.6f}'.format(F.nll_loss(F.log_softmax(z, dim=1), y).item()))
print('cross_entropy: {:.6f}'.format(F.cross_entropy(z, y).item()))

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


class SoftmaxClassifierModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)  # Output이 3!

    def forward(self, x):
        return self.linear(x)


model = SoftmaxClassifierModel()
optimizer = optim.SGD(model.parameters(), lr=0.1)

nb_epochs = 1000
for epoch in range(nb_epochs + 1):
    prediction = model(x_train)
    cost = F.cross_entropy(prediction, y_train)

    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    if epoch % 100 == 0:
        print('Epoch {:4d}/{} Cost: {:.6f}'.format(
            epoch, nb_epochs, cost.item()
        ))

print(model(x_train).argmax(dim=1))
