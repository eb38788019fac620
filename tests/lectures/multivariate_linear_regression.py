# Lecture: 002 "Pytorch로 딥러닝 - 인공신경망 (DNN) 기초", 0. Gradient Descent Method,
# 다항회귀 구현: 데이터 로드 / 옵티마이저 설정 / 결과 (seed 002, lines 107-161).
# The slide's training cell has no print line; the log it shows ("Epoch 1/100 hypothesis: ... Cost : 29661.800781")
# uses the print statement of the next slide (seed 002, line 225), copied here.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

x_train = torch.FloatTensor([[73,80,75],
                             [93,88,93],
                             [89,91,90],
                             [96,98,100],
                             [73,66,70]])

y_train = torch.FloatTensor([[152],[185],[180],[196],[142]])

# 모델 초기화
W = torch.zeros((3,1), requires_grad = True)
b = torch.zeros(1, requires_grad = True)

# optimizer 설정
optimizer = torch.optim.SGD([W,b], lr = 1e-5)    ## learning rate에 따라 발산할 수 있다. lr = 0.01만 돼도 발산한다.
nb_epochs = 100

for epoch in range(nb_epochs) :
    hypothesis = x_train.matmul(W) + b
    cost = torch.mean((hypothesis - y_train)**2)
    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    print('Epoch {:4d}/{:} hypothesis: {} Cost : {:.6f}'.format(epoch+1, nb_epochs, hypothesis.squeeze().detach(),
                                                                cost.item())
          )
