# Lecture: 002 "Pytorch로 딥러닝 - 인공신경망 (DNN) 기초", 3. Softmax (seed 002, lines 529-716).
# Notebook cells In [9], In [16]-In [27] joined (data cell first). OCR fix: class body and the logging `if`
# re-indented (the OCR lost the indentation; the log shows it printed inside the loop).
# Added: torch.manual_seed(1). The softmax cells show no seed (an earlier section of the same lecture uses
# torch.manual_seed(1)); the lecture's logged costs come from a run whose seed/state is unknown, so they are
# not reproduced here. With lr=1 the lecture's costs jump around (8.66 at epoch 100) before converging.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)

x_train = [[1,2,1,1],
           [2,1,3,2],
           [3,1,3,4],
           [4,1,5,5],
           [1,7,5,5],
           [1,2,5,6],
           [1,6,6,6],
           [1,7,7,7]]
y_train = [2,2,2,1,1,1,0,0]
x_train = torch.FloatTensor(x_train)
y_train = torch.LongTensor(y_train)

class SoftmaxClassifierModel(nn.Module) :
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4,3)

    def forward(self,x):
        return self.linear(x)

# 모델 초기화
model = SoftmaxClassifierModel()
# optimizer 설정
optimizer = torch.optim.SGD(model.parameters(), lr=1)

nb_epochs = 1000
for epoch in range(nb_epochs) :
    # Cost 계산
    hypothesis = model(x_train)
    cost = F.cross_entropy(hypothesis, y_train)

    # parameter update
    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    # 100번마다 로그 출력
    if epoch % 100 == 0 :
        print(f'Epoch {epoch}/{nb_epochs} , Cost : {cost.item()}')

print(hypothesis) # 예측값
print(F.softmax(hypothesis, dim=1))
print(F.softmax(hypothesis, dim=1).sum(dim=1))
