# Lecture: 004 "Tensor Manipulation", Mean (seed 004, lines 526-535).
# The printed line is PyTorch's own error message; an engine prints its own wording.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

# Can't use mean() on integers
t = torch.LongTensor([1, 2])
try:
    print(t.mean())
except Exception as exc:
    print(exc)
