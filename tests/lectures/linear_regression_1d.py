# Lecture: 000 "Linear Regression & Neural Network" (2017), linear_regression.py (seed 000, lines 123-350).
# The lecture shows this code but not its output.
# Updated from the 2017 API (functions removed from PyTorch since): init.normal(torch.FloatTensor(n,1), std=0.2)
# -> torch.randn(n, 1) * 0.2; init.uniform(torch.Tensor(n,1), -10, 10) -> torch.rand(n, 1) * 20 - 10;
# Variable(...) dropped; loss.data.numpy()[0] -> loss.item().
# Dropped: numpy/visdom imports and the Visdom() viewer (it plots loss_arr; no plot here).
# OCR fixes: "loss func" -> loss_func, "zero grad" -> zero_grad, "y noise" -> y_noise, "param list" -> param_list.
# Deviations: nn.L2Loss (no such class) -> nn.MSELoss; the slide's "tr=1" would be lr=1, which makes this
# MSE fit diverge to nan in a few steps, so lr=0.01 is used. Added torch.manual_seed(1) (the lecture does not seed).
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)

# data generation

num_data = 1000

noise = torch.randn(num_data, 1) * 0.2
x = torch.rand(num_data, 1) * 20 - 10
y = 2*x+3
y_noise = 2*(x+noise)+3

# model & optimizer

model = nn.Linear(1,1)
output = model(x)
loss_func = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.01)

# train
loss_arr =[]
label = y_noise
for i in range(1000):
    output = model(x)
    optimizer.zero_grad()

    loss = loss_func(output,label)
    loss.backward()
    optimizer.step()
    #print(loss)
    loss_arr.append(loss.item())

param_list = list(model.parameters())
print(param_list[0].data,param_list[1].data)
