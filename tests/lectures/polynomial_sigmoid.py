# Lecture: 000 "Linear Regression & Neural Network" (2017), Neural Network: fitting y = 8x^2 + 7x + 3
# (seed 000, lines 863-1125). The lecture shows this code but not its output.
# Updated from the 2017 API: init.normal(torch.FloatTensor(n,1), std=0.5) -> torch.randn(n, 1) * 0.5;
# init.uniform(torch.Tensor(n,1), -15, 15) -> torch.rand(n, 1) * 30 - 15; Variable(...) and .cuda()/.cpu() dropped
# (CPU only); loss.cpu().data.numpy()[0] -> loss.item().
# Dropped: numpy/visdom imports and the Visdom() viewer (it plots loss_arr and the fit; no plot here).
# OCR fixes: "tr=0.001" -> lr=0.001, "num epoch"/"num data" -> num_epoch/num_data, "x noise"/"y noise" ->
# x_noise/y_noise, "loss func" -> loss_func, "zero grad" -> zero_grad, "param list" -> param_list.
# Added: torch.manual_seed(1) (the lecture does not seed; needed for a reproducible expected file).
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)

# data generation

num_data = 1000
num_epoch = 500  # lecture: 5000; shortened to keep the run short

noise = torch.randn(num_data, 1) * 0.5
x = torch.rand(num_data, 1) * 30 - 15
y = 8*(x**2) + 7*x + 3
x_noise = x + noise
y_noise = 8*(x_noise**2) + 7*x_noise + 3

# model & optimizer

model = nn.Sequential(
        nn.Linear(1,10),
        nn.Sigmoid(),
        nn.Linear(10,6),
        nn.Sigmoid(),
        nn.Linear(6,1),
    )
loss_func = nn.L1Loss()
optimizer = optim.SGD(model.parameters(), lr=0.001)

# train
loss_arr =[]
label = y_noise
for i in range(num_epoch):
    output = model(x)
    optimizer.zero_grad()
    loss = loss_func(output,label)
    loss.backward()
    optimizer.step()
    #print(loss)
    loss_arr.append(loss.item())

param_list = list(model.parameters())
print(param_list[0].data,param_list[1].data)
