"""Lab 9-2/9-3: a 3-layer MNIST network (784-128-128-10 with nn.ReLU) whose weights are initialised with
torch.nn.init.xavier_uniform_, trained with Adam (lr=0.001), `avg_cost += cost / total_batch`, then the test
accuracy and one random sample.
Changed from the lab: MNIST is engine.datasets.MNIST, the offline stand-in of the same shapes (1,438 training and 359
test images), hidden layers of 128 instead of 256, 3 epochs instead of 15, test images scaled by 1/255 like the
training images.
Random: the initial weights and the shuffling are drawn after manual_seed(777)."""
import random

import torch

from engine.datasets import MNIST, ToTensor  # offline stand-in for torchvision.datasets.MNIST / transforms.ToTensor

device = 'cuda' if torch.cuda.is_available() else 'cpu'

random.seed(777)
torch.manual_seed(777)
if device == 'cuda':
    torch.cuda.manual_seed_all(777)

learning_rate = 0.001
training_epochs = 3
batch_size = 100

mnist_train = MNIST(root='MNIST_data/', train=True, transform=ToTensor(), download=True, tensor_module=torch)
mnist_test = MNIST(root='MNIST_data/', train=False, transform=ToTensor(), download=True, tensor_module=torch)

data_loader = torch.utils.data.DataLoader(dataset=mnist_train, batch_size=batch_size, shuffle=True, drop_last=True)

# nn layers
linear1 = torch.nn.Linear(784, 128, bias=True)
linear2 = torch.nn.Linear(128, 128, bias=True)
linear3 = torch.nn.Linear(128, 10, bias=True)
relu = torch.nn.ReLU()

# xavier initialization
torch.nn.init.xavier_uniform_(linear1.weight)
torch.nn.init.xavier_uniform_(linear2.weight)
torch.nn.init.xavier_uniform_(linear3.weight)

# model
model = torch.nn.Sequential(linear1, relu, linear2, relu, linear3).to(device)

criterion = torch.nn.CrossEntropyLoss().to(device)  # Softmax is internally computed.
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

total_batch = len(data_loader)
for epoch in range(training_epochs):
    avg_cost = 0

    for X, Y in data_loader:
        X = X.view(-1, 28 * 28).to(device)
        Y = Y.to(device)

        optimizer.zero_grad()
        hypothesis = model(X)
        cost = criterion(hypothesis, Y)
        cost.backward()
        optimizer.step()

        avg_cost += cost / total_batch

    print('Epoch:', '%04d' % (epoch + 1), 'cost =', '{:.9f}'.format(avg_cost))
print('Learning finished')

with torch.no_grad():
    X_test = mnist_test.test_data.view(-1, 28 * 28).float().to(device) / 255
    Y_test = mnist_test.test_labels.to(device)

    prediction = model(X_test)
    correct_prediction = torch.argmax(prediction, 1) == Y_test
    accuracy = correct_prediction.float().mean()
    print('Accuracy:', accuracy.item())

    r = random.randint(0, len(mnist_test) - 1)
    X_single_data = mnist_test.test_data[r:r + 1].view(-1, 28 * 28).float().to(device) / 255
    Y_single_data = mnist_test.test_labels[r:r + 1].to(device)

    print('Label: ', Y_single_data.item())
    single_prediction = model(X_single_data)
    print('Prediction: ', torch.argmax(single_prediction, 1).item())
