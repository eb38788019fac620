# Lecture: 002 "Pytorch로 딥러닝 - 인공신경망 (DNN) 기초", 0. Gradient Descent Method,
# 클래스로 파이토치 모델 구현하기 (seed 002, lines 173-235). Notebook cells In [16]-In [22] joined.
# Data: the lecture's previous cell (seed 002, lines 107-115).
# Added: torch.manual_seed(1). The lecture's notebook shows no seed before nn.Linear(3,1), so its printed
# parameters and costs come from an unseeded run and cannot be reproduced; the seed makes this file deterministic.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)

x_train = torch.FloatTensor([[73,80,75],
                             [93,88,93],
                             [89,91,90],
                             [96,98,100],
                             [73,66,70]])

y_train = torch.FloatTensor([[152],[185],[180],[196],[142]])
nb_epochs = 100

class MultivariateLinearRegressionModel(nn.Module) :
    def __init__(self) : # 여기서 모델의 구조를 정의하는 생성자를 정의한다.
        super().__init__() # (above) 이는 객체가 갖는 속성값을 초기화 하는 역할로, 객체가 생성될때 자동으로 호출됨.
        self.linear = nn.Linear(3,1) # 입력차원 3, 출력차원 1

    def forward(self, x) : # forward 함수는 모델이 학습데이터를 입력받아서 forward연산 (예측)을 진행하는 함수
        return self.linear(x) # 모델 객체를 데이터와 함께 호출하면 자동으로 실행됨.

model = MultivariateLinearRegressionModel()

# 모델에 저장되어 있는 파라미터 확인
print(list(model.parameters()))

model = MultivariateLinearRegressionModel()
optimizer = torch.optim.SGD(model.parameters(), lr = 0.00001)
## lr은 중요한 하이퍼 파라미터. 0.01, 0.001, 0.00001을 넣어보고 비교해봐라

for epoch in range(nb_epochs):
    # hypothesis 계산
    hypothesis = model(x_train)

    # cost 계산
    cost = torch.nn.functional.mse_loss(hypothesis, y_train) # 파이토치에서 제공하는 평균 제곱 오차 함수

    # cost로 hypothesis 개선
    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    print('Epoch {:4d}/{:} hypothesis: {} Cost : {:.6f}'.format(epoch+1, nb_epochs, hypothesis.squeeze().detach(),
                                                                cost.item())
          )
