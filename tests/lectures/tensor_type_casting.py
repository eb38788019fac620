# Lecture: 004 "Tensor Manipulation", Type Casting (seed 004, lines 760-796).
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

lt = torch.LongTensor([1, 2, 3, 4])
print(lt)

print(lt.float())

bt = torch.ByteTensor([True, False, False, True])
print(bt)

print(bt.long())
print(bt.float())
