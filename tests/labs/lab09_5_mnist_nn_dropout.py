"""Lab 9-5: dropout: a deep MNIST network (784-128-128-128-10, nn.ReLU, torch.nn.Dropout(p=0.3) after each hidden
layer, xavier_uniform_ weights), model.train() while learning and model.eval() for the test, Adam (lr=0.001).
Changed from the lab: MNIST is engine.datasets.MNIST, the offline stand-in of the same shapes (1,438 training and 359
test images), hidden layers of 128 instead of 512, 3 epochs instead of 15, test images scaled by 1/255.
Random: the initial weights, the shuffling and the dropout masks are drawn after manual_seed(777)."""
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
drop_prob = 0.3

mnist_train = MNIST(root='MNIST_data/', train=True, transform=ToTensor(), download=True, tensor_module=torch)
mnist_test = MNIST(root='MNIST_data/', train=False, transform=ToTensor(), download=True, tensor_module=torch)

data_loader = torch.utils.data.DataLoader(dataset=mnist_train, batch_size=batch_size, shuffle=True, drop_last=True)

# nn layers
linear1 = torch.nn.Linear(784, 128, bias=True)
linear2 = torch.nn.Linear(128, 128, bias=True)
linear3 = torch.nn.Linear(128, 128, bias=True)
linear4 = torch.nn.Linear(128, 10, bias=True)
relu = torch.nn.ReLU()
dropout = torch.nn.Dropout(p=drop_prob)

# xavier initialization
torch.nn.init.xavier_uniform_(linear1.weight)
torch.nn.init.xavier_uniform_(linear2.weight)
torch.nn.init.xavier_uniform_(linear3.weight)
torch.nn.init.xavier_uniform_(linear4.weight)

# model
model = torch.nn.Sequential(linear1, relu, dropout,
                            linear2, relu, dropout,
                            linear3, relu, dropout,
                            linear4).to(device)
print(model)

criterion = torch.nn.CrossEntropyLoss().to(device)  # Softmax is internally computed.
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

total_batch = len(data_loader)
model.train()  # set the model to train mode (dropout=True)
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
    model.eval()  # set the model to evaluation mode (dropout=False)

    X_test = mnist_test.test_data.view(-1, 28 * 28).float().to(device) / 255
    Y_test = mnist_test.test_labels.to(device)

    prediction = model(X_test)
    correct_prediction = torch.argmax(prediction, 1) == Y_test
    accuracy = correct_prediction.float().mean()
    print('Accuracy:', accuracy.item())
    print('eval mode is deterministic:', model(X_test).equal(prediction))
