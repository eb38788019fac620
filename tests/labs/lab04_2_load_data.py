"""Lab 4-2: loading data from a .csv file: numpy slicing, np.loadtxt of the course's data-01-test-score.csv
(25 students, 3 quiz scores and a final score; read from the course data folder, $COURSE_DATA, never copied here),
then the matrix regression on all 25 rows (20 epochs, as in the lab). Deterministic: weights start at zero."""
import os

import numpy as np
import torch
import torch.optim as optim

DATA = os.environ.get('COURSE_DATA', os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  '..', '..', '..', 'shared', 'course-data'))

nums = [0, 1, 2, 3, 4]
print(nums[2:4], nums[2:], nums[:2], nums[:], nums[:-1])
b = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
print(b[:, 1], b[-1], b[0:2, :].shape)

xy = np.loadtxt(os.path.join(DATA, 'data-01-test-score.csv'), delimiter=',', dtype=np.float32)
x_data = xy[:, 0:-1]
y_data = xy[:, [-1]]
print(x_data.shape)
print(len(x_data))
print(x_data[:5])
print(y_data.shape)
print(y_data[:5])

torch.manual_seed(1)

x_train = torch.FloatTensor(x_data)
y_train = torch.FloatTensor(y_data)
print(x_train[:2], x_train.shape)

W = torch.zeros((3, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)
optimizer = optim.SGD([W, b], lr=1e-5)

nb_epochs = 20
for epoch in range(nb_epochs + 1):
    hypothesis = x_train.matmul(W) + b
    cost = torch.mean((hypothesis - y_train) ** 2)

    optimizer.zero_grad()
    cost.backward()
    optimizer.step()

    print('Epoch {:4d}/{} Cost: {:.6f}'.format(
        epoch, nb_epochs, cost.item()
    ))
