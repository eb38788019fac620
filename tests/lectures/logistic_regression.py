# Lecture: 002 "Pytorch로 딥러닝 - 인공신경망 (DNN) 기초", 2. Logistic Regression 코드 구현
# (seed 002, lines 319-426). Notebook cells In [1]-In [79] joined into one script.
# nb_epochs is not set in the shown cells; the log ("Epochs : 375/1000") shows it was 1000.
# The last two cells display `hypothesis` and `y_train` (notebook echo); here they are printed.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

# For reproducibility
torch.manual_seed(1)

x_data = [[1,2],[2,3],[3,1],[4,3],[5,3],[6,2]]
y_data = [[0],[0],[0],[1],[1],[1]]

x_train = torch.FloatTensor(x_data)
y_train = torch.FloatTensor(y_data)

print(x_train.shape)
print(y_train.shape)

# learning parameters
W = torch.zeros([2,1], requires_grad= True)
b = torch.zeros([1], requires_grad= True)

nb_epochs = 1000
optimizer = torch.optim.SGD([W,b], lr=0.05)

for epoch in range(nb_epochs) :
    # 직접 이렇게 sigmoid를 구현해도 될
    # torch.sigmoid() 대신 직접 시그모이드 함수를 구현해도 될 -> 1/(1+torch.exp(- x_train.matmul(W)+b))
    hypothesis = torch.sigmoid(x_train.matmul(W)+b)
    cost = F.binary_cross_entropy(hypothesis, y_train) # hypothesis, y_train 순서를 바꾸면 예러가 남

    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    print(f'Epochs : {epoch+1}/{nb_epochs} Cost : {cost}')

# 훈련된 모델의 예측값
print(hypothesis)
# 실제 값
print(y_train)
