# Lecture: 001 "Forward & Backward Propagation", Neural Network: test.py fitting y = 8x^2 + 7x + 3
# (seed 001, lines 494-794). The lecture shows this code but not its output.
# Updated from the 2017 API: init.uniform(torch.Tensor(n,1), -15, 15) -> torch.rand(n, 1) * 30 - 15;
# init.normal(torch.FloatTensor(n,1), std=1) -> torch.randn(n, 1) * 1; Variable(...) and .cuda()/.cpu() dropped
# (CPU only); loss.cpu().data.numpy()[0] -> loss.item().
# Dropped: numpy/visdom imports and the Visdom() viewer (no plot here).
# OCR fixes: "tr=0.001" (one copy; the others read lr=0.001) -> lr=0.001, "loss arr" -> loss_arr,
# "zero grad" -> zero_grad, "loss func" -> loss_func, "param list" -> param_list.
# Added: torch.manual_seed(1) (the lecture does not seed; needed for a reproducible expected file).
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)

num_data = 1000
num_epoch = 500  # lecture: 5000; shortened to keep the run short

x = torch.rand(num_data, 1) * 30 - 15
y = 8*(x**2) + 7*x + 3
noise = torch.randn(num_data, 1) * 1
y_noise = y + noise

model = nn.Sequential(
        nn.Linear(1,10),
        nn.ReLU(),
        nn.Linear(10,6),
        nn.ReLU(),
        nn.Linear(6,1),
    )

loss_func = nn.L1Loss()
optimizer = optim.SGD(model.parameters(), lr=0.001)

loss_arr =[]
label = y_noise
for i in range(num_epoch):
    output = model(x)
    optimizer.zero_grad()
    loss = loss_func(output,label)
    loss.backward()
    optimizer.step()
    if i % 100 ==0:
        print(loss)
    loss_arr.append(loss.item())

param_list = list(model.parameters())
print(param_list)
