# Lecture: 002 "Pytorch로 딥러닝 - 인공신경망 (DNN) 기초", 0. Gradient Descent Method, 자동 미분 (autograd)
# (seed 002, lines 78-99). Notebook cells In [6]-In [11] joined into one script.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

# 임의의 스칼라 텐서 w 선언
# requires_grad = True는 이 텐서에 대한 기울기를 저장하겠다는 의미. 이렇게 하면 'grad'속성에 w에 대한 미분값이 저장됨
w = torch.tensor(2.0, requires_grad = True)

y = w**2
z = 2*y + 5

# backward()를 호출하면 해당 수식에서 requires_grad = True로 설정한 텐서들에 대한 기울기를 계산한다.
z.backward()

print(f'수식을 w로 미분한 값 : {w.grad}')
