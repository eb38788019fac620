"""Lab 9, the pieces on a fixed batch: ReLU next to sigmoid and tanh (and their gradients, why ReLU trains deep
networks), the gains and bounds of Xavier initialisation, dropout in train and eval mode, and BatchNorm1d's
batch statistics, running statistics and eval-mode output.
Deterministic: the inputs are written out; the only draws (xavier_uniform_, a dropout mask) are checked by what
must hold whatever the draw."""
import math

import torch
import torch.nn.functional as F

x = torch.FloatTensor([[-2.0, -0.5, 0.0, 0.5, 2.0],
                       [1.0, -1.0, 3.0, -3.0, 0.25]])
x.requires_grad_(True)
print(torch.relu(x))
print(F.relu(x))
print(torch.nn.ReLU()(x))
print(torch.sigmoid(x))
print(torch.tanh(x))

# gradients: ReLU passes 0 or 1; sigmoid at most 0.25 per layer
torch.relu(x).sum().backward()
print(x.grad)
x.grad = None
torch.sigmoid(x).sum().backward()
print(x.grad)
print('max sigmoid gradient: {:.4f}'.format(x.grad.max().item()))
print('after 10 sigmoid layers at most: {:.3e}'.format(0.25 ** 10))

# xavier: gain and bound
print('gain relu: {:.6f} tanh: {:.6f} sigmoid: {:.6f}'.format(
    torch.nn.init.calculate_gain('relu'), torch.nn.init.calculate_gain('tanh'),
    torch.nn.init.calculate_gain('sigmoid')))
linear = torch.nn.Linear(256, 128)
torch.nn.init.xavier_uniform_(linear.weight)
bound = math.sqrt(6.0 / (256 + 128))
print('xavier_uniform_ bound: {:.6f}'.format(bound))
print('inside the bound:', linear.weight.abs().max().item() <= bound, linear.weight.shape)

# dropout: eval mode is the identity; train mode zeroes some and scales the rest by 1 / (1 - p)
dropout = torch.nn.Dropout(p=0.5)
ones = torch.ones(4, 1000)
dropout.eval()
print('eval:', dropout(ones).equal(ones))
dropout.train()
out = dropout(ones)
print('train values:', sorted(set(out.flatten().tolist())))
print('kept about half:', 0.4 < (out != 0).float().mean().item() < 0.6)
print('p=0:', torch.nn.Dropout(p=0.0)(ones).equal(ones))

# batch norm: train mode normalises with the batch's mean and (biased) variance
bn = torch.nn.BatchNorm1d(3)
print(bn)
batch = torch.FloatTensor([[1.0, 2.0, -1.0],
                           [3.0, 6.0, 0.0],
                           [5.0, 4.0, 1.0],
                           [7.0, 0.0, 4.0]])
bn.train()
out = bn(batch)
print(out)
print(out.mean(dim=0).abs().max().item() < 1e-6)
by_hand = (batch - batch.mean(dim=0)) / torch.sqrt(batch.var(dim=0, unbiased=False) + bn.eps)
print((out - by_hand).abs().max().item() < 1e-5)
print(bn.running_mean)
print(bn.running_var)
print(bn.num_batches_tracked)
bn.eval()
print(bn(batch))
print(bn.weight, bn.bias)
