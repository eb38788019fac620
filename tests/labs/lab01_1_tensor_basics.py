"""Lab 1 (tensor manipulation, part 1): numpy review, 1-D/2-D tensors, rank and shape, mul vs matmul,
broadcasting, mean, sum, max and argmax. Deterministic: nothing is drawn at random."""
import numpy as np
import torch

# numpy review: rank, shape, indexing and slicing
t = np.array([0., 1., 2., 3., 4., 5., 6.])
print(t)
print('Rank  of t: ', t.ndim)
print('Shape of t: ', t.shape)
print('t[0] t[1] t[-1] = ', t[0], t[1], t[-1])
print('t[2:5] t[4:-1]  = ', t[2:5], t[4:-1])

# the same with a FloatTensor
t = torch.FloatTensor([0., 1., 2., 3., 4., 5., 6.])
print(t)
print(t.dim())
print(t.shape)
print(t.size())
print(t[0], t[1], t[-1])
print(t[2:5], t[4:-1])
print(t[:2], t[3:])

t = torch.FloatTensor([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.], [10., 11., 12.]])
print(t)
print(t.dim())
print(t.size())
print(t[:, 1])
print(t[:, 1].size())
print(t[:, :-1])
print(t[-1, ...])

# shape, rank, axis
t = torch.FloatTensor([[[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]],
                        [[13, 14, 15, 16], [17, 18, 19, 20], [21, 22, 23, 24]]]])
print(t.dim())
print(t.size())
print(t.size(1), t.shape[-1])

# mul vs matmul
m1 = torch.FloatTensor([[1, 2], [3, 4]])
m2 = torch.FloatTensor([[1], [2]])
print('Shape of Matrix 1: ', m1.shape)
print('Shape of Matrix 2: ', m2.shape)
print(m1.matmul(m2))
print(m1 * m2)
print(m1.mul(m2))
print(m1 @ m1)

# broadcasting
m1 = torch.FloatTensor([[3, 3]])
m2 = torch.FloatTensor([[2, 2]])
print(m1 + m2)
m1 = torch.FloatTensor([[1, 2]])
m2 = torch.FloatTensor([3])
print(m1 + m2)
m1 = torch.FloatTensor([[1, 2]])
m2 = torch.FloatTensor([[3], [4]])
print(m1 + m2)

# mean (not of an integer tensor), sum, max, argmax
t = torch.FloatTensor([1, 2])
print(t.mean())
t = torch.LongTensor([1, 2])
try:
    print(t.mean())
except Exception:
    print('mean() of a LongTensor: refused')
t = torch.FloatTensor([[1, 2], [3, 4]])
print(t.mean())
print(t.mean(dim=0))
print(t.mean(dim=1))
print(t.mean(dim=-1))
print(t.sum())
print(t.sum(dim=0))
print(t.sum(dim=1))
print(t.sum(dim=-1))
print(t.max())
print('Max: ', t.max(dim=0)[0])
print('Argmax: ', t.max(dim=0)[1])
values, indices = t.max(dim=1)
print(values, indices)
print(t.argmax(), t.argmax(dim=1))
