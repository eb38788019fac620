"""Lab 6-2: softmax classification of the course's data-04-zoo.csv (101 animals, 16 features, 7 classes; read from
the course data folder, $COURSE_DATA, never copied here): one-hot with scatter, the cost by hand and with
F.cross_entropy (1000 epochs, logged every 100, as in the lab), then the accuracy.
Deterministic: W and b start at zero."""
import os

import numpy as np
import torch
import torch.nn.functional as F
import torch.optim as optim

DATA = os.environ.get('COURSE_DATA', os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  '..', '..', '..', 'shared', 'course-data'))

torch.manual_seed(1)

xy = np.loadtxt(os.path.join(DATA, 'data-04-zoo.csv'), delimiter=',', dtype=np.float32)
x_train = torch.FloatTensor(xy[:, 0:-1])
y_train = torch.LongTensor(xy[:, [-1]]).squeeze()
print(x_train.shape)
print(y_train.shape)
print(x_train[:5])
print(y_train[:5])

nb_classes = 7
y_one_hot = torch.zeros((len(y_train), nb_classes))
y_one_hot = y_one_hot.scatter(1, y_train.unsqueeze(1), 1)
print(y_one_hot.shape)
print(y_one_hot.sum(dim=0))

W = torch.zeros((16, 7), requires_grad=True)
b = torch.zeros(1, requires_grad=True)
optimizer = optim.SGD([W, b], lr=0.1)

nb_epochs = 1000
for epoch in range(nb_epochs + 1):
    hypothesis = F.softmax(x_train.matmul(W) + b, dim=1)
    cost = (y_one_hot * -torch.log(hypothesis)).sum(dim=1).mean()

    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    if epoch % 100 == 0:
        print('Epoch {:4d}/{} Cost: {:.6f}'.format(
            epoch, nb_epochs, cost.item()
        ))

W = torch.zeros((16, 7), requires_grad=True)
b = torch.zeros(1, requires_grad=True)
optimizer = optim.SGD([W, b], lr=0.1)

for epoch in range(nb_epochs + 1):
    z = x_train.matmul(W) + b
    cost = F.cross_entropy(z, y_train)

    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    if epoch % 100 == 0:
        print('Epoch {:4d}/{} Cost: {:.6f}'.format(
            epoch, nb_epochs, cost.item()
        ))

with torch.no_grad():
    prediction = torch.argmax(x_train.matmul(W) + b, 1)
    correct_prediction = prediction == y_train
    accuracy = correct_prediction.float().mean()
print('Accuracy: {:.4f} ({} of {})'.format(accuracy.item(), correct_prediction.sum().item(), len(y_train)))
