"""Lab 5, real data: logistic classification on the course's data-03-diabetes.csv (759 patients, 8 normalised
features; read from the course data folder, $COURSE_DATA, never copied here), 100 epochs logged every 10 and the
training accuracy, as in the lab. Deterministic: W and b start at zero."""
import os

import numpy as np
import torch
import torch.optim as optim

DATA = os.environ.get('COURSE_DATA', os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  '..', '..', '..', 'shared', 'course-data'))

torch.manual_seed(1)

xy = np.loadtxt(os.path.join(DATA, 'data-03-diabetes.csv'), delimiter=',', dtype=np.float32)
x_data = xy[:, 0:-1]
y_data = xy[:, [-1]]
x_train = torch.FloatTensor(x_data)
y_train = torch.FloatTensor(y_data)
print(x_train[0:5])
print(y_train[0:5])

W = torch.zeros((8, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)
optimizer = optim.SGD([W, b], lr=1)

nb_epochs = 100
for epoch in range(nb_epochs + 1):
    hypothesis = torch.sigmoid(x_train.matmul(W) + b)
    cost = -(y_train * torch.log(hypothesis) + (1 - y_train) * torch.log(1 - hypothesis)).mean()

    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    if epoch % 10 == 0:
        print('Epoch {:4d}/{} Cost: {:.6f}'.format(
            epoch, nb_epochs, cost.item()
        ))

hypothesis = torch.sigmoid(x_train.matmul(W) + b)
prediction = hypothesis >= torch.FloatTensor([0.5])
correct_prediction = prediction.float() == y_train
accuracy = correct_prediction.sum().item() / len(correct_prediction)
print('The model has an accuracy of {:2.2f}% for the training set.'.format(accuracy * 100))
