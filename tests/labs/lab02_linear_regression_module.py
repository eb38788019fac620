"""Lab 2, high-level part: the same regression as an nn.Module around nn.Linear(1, 1), with F.mse_loss and
optim.SGD over model.parameters() (1000 epochs, logged every 100, as in the lab).
Random: nn.Linear draws its initial weight and bias after manual_seed(1)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)

x_train = torch.FloatTensor([[1], [2], [3]])
y_train = torch.FloatTensor([[1], [2], [3]])


class LinearRegressionModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


model = LinearRegressionModel()
print(model)
hypothesis = model(x_train)
print(hypothesis.shape)
cost = F.mse_loss(hypothesis, y_train)
print(cost.dim(), cost.requires_grad)

optimizer = optim.SGD(model.parameters(), lr=0.01)

nb_epochs = 1000
for epoch in range(nb_epochs + 1):
    prediction = model(x_train)
    cost = F.mse_loss(prediction, y_train)

    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    if epoch % 100 == 0:
        params = list(model.parameters())
        W = params[0].item()
        b = params[1].item()
        print('Epoch {:4d}/{} W: {:.3f}, b: {:.3f} Cost: {:.6f}'.format(
            epoch, nb_epochs, W, b, cost.item()
        ))

new_var = torch.FloatTensor([[4.0]])
pred_y = model(new_var)
print('훈련 후 입력이 4일 때의 예측값 : {:.3f}'.format(pred_y.item()))
