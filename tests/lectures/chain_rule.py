# Lecture: 000 "Linear Regression & Neural Network" and 001 "Forward & Backward Propagation",
# "Backpropagation: a simple example" f(x, y, z) = (x + y)z with x = -2, y = 5, z = -4
# (seed 000, lines 604-679; seed 001, lines 263-359).
# The slides work this example by hand (no code); this script is the same computation written with
# autograd so the slide's numbers can be checked: q = 3, f = -12, df/dx = -4, df/dy = -4, df/dz = 3.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

x = torch.tensor(-2.0, requires_grad=True)
y = torch.tensor(5.0, requires_grad=True)
z = torch.tensor(-4.0, requires_grad=True)

q = x + y
f = q * z
f.backward()

print('q =', q.item())
print('f =', f.item())
print('df/dx =', x.grad.item())
print('df/dy =', y.grad.item())
print('df/dz =', z.grad.item())
