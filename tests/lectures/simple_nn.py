# Lecture: 002 "Pytorch로 딥러닝 - 인공신경망 (DNN) 기초", 4. 인공신경망 (seed 002, lines 830-921).
# Notebook cells In [36]-In [42] joined; the echoes of `hypothesis` and `Y` are printed
# (OCR fix: the last cell "In [42]: $\gamma$" is `Y`, as its output shows).
# Added: torch.manual_seed(1). The lecture shows no seed for this model, so its printed costs come from an
# unseeded run and are not reproduced here.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)

X = torch.FloatTensor([[0,0],[0,1],[1,0],[1,1]])
Y = torch.FloatTensor([[5],[6],[8],[10]])

## hidden layers
class simpleNN(nn.Module) :
    def __init__(self) :
        super().__init__()
        self.linear1 = nn.Linear(2,2, bias = True)
        self.linear2 = nn.Linear(2,1, bias = True)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x) :
        x = self.linear1(x)
        x = self.sigmoid(x)
        x = self.linear2(x)
        return x

DNN = simpleNN()

## define cost/loss & optimizer
criterion = torch.nn.MSELoss()
optimizer = torch.optim.SGD(DNN.parameters(), lr = 0.05)

for epoch in range(1000) :
    hypothesis = DNN(X)
    cost = criterion(hypothesis,Y)

    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    print(f'epoch : {epoch}/{1000} , cost : {cost.item()}')

print(hypothesis)
print(Y)
