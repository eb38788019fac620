"""Lab 5, high-level part: BinaryClassifier (nn.Linear(8, 1) and nn.Sigmoid) on the course's data-03-diabetes.csv
($COURSE_DATA), F.binary_cross_entropy, 100 epochs logged every 10 with the accuracy, as in the lab.
Random: nn.Linear draws its initial weights after manual_seed(1)."""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

DATA = os.environ.get('COURSE_DATA', os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  '..', '..', '..', 'shared', 'course-data'))

torch.manual_seed(1)

xy = np.loadtxt(os.path.join(DATA, 'data-03-diabetes.csv'), delimiter=',', dtype=np.float32)
x_train = torch.FloatTensor(xy[:, 0:-1])
y_train = torch.FloatTensor(xy[:, [-1]])


class BinaryClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.linear(x))


model = BinaryClassifier()
optimizer = optim.SGD(model.parameters(), lr=1)

nb_epochs = 100
for epoch in range(nb_epochs + 1):
    hypothesis = model(x_train)
    cost = F.binary_cross_entropy(hypothesis, y_train)

    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    if epoch % 10 == 0:
        prediction = hypothesis >= torch.FloatTensor([0.5])
        correct_prediction = prediction.float() == y_train
        accuracy = correct_prediction.sum().item() / len(correct_prediction)
        print('Epoch {:4d}/{} Cost: {:.6f} Accuracy {:2.2f}%'.format(
            epoch, nb_epochs, cost.item(), accuracy * 100,
        ))
