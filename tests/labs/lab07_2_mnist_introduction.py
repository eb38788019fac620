"""Lab 7-2: MNIST introduction: softmax regression (nn.Linear(784, 10)) trained with nn.CrossEntropyLoss and SGD in
mini-batches from a DataLoader, `avg_cost += cost / total_batch`, then the test accuracy and one random sample.
Changed from the lab: MNIST is engine.datasets.MNIST, the offline stand-in of the same shapes (1,438 training and 359
test images of 28x28; torchvision's download is not available), 3 epochs instead of 15, and the test images
scaled by 1/255 as ToTensor scales the training images (the lab feeds them unscaled).
Random: the initial weights and the shuffling are drawn after manual_seed(777)."""
import random

import torch

from engine.datasets import MNIST, ToTensor  # offline stand-in for torchvision.datasets.MNIST / transforms.ToTensor

device = 'cuda' if torch.cuda.is_available() else 'cpu'

# for reproducibility
random.seed(777)
torch.manual_seed(777)
if device == 'cuda':
    torch.cuda.manual_seed_all(777)

# parameters
training_epochs = 3
batch_size = 100

mnist_train = MNIST(root='MNIST_data/', train=True, transform=ToTensor(), download=True, tensor_module=torch)
mnist_test = MNIST(root='MNIST_data/', train=False, transform=ToTensor(), download=True, tensor_module=torch)
print(len(mnist_train), len(mnist_test), mnist_train.data.shape, mnist_train.targets.shape)

data_loader = torch.utils.data.DataLoader(dataset=mnist_train, batch_size=batch_size, shuffle=True, drop_last=True)

# MNIST data image of shape 28 * 28 = 784
linear = torch.nn.Linear(784, 10, bias=True).to(device)

# define cost/loss & optimizer
criterion = torch.nn.CrossEntropyLoss().to(device)  # Softmax is internally computed.
optimizer = torch.optim.SGD(linear.parameters(), lr=0.1)

for epoch in range(training_epochs):
    avg_cost = 0
    total_batch = len(data_loader)

    for X, Y in data_loader:
        # reshape input image into [batch_size by 784]
        # label is not one-hot encoded
        X = X.view(-1, 28 * 28).to(device)
        Y = Y.to(device)

        optimizer.zero_grad()
        hypothesis = linear(X)
        cost = criterion(hypothesis, Y)
        cost.backward()
        optimizer.step()
        avg_cost += cost / total_batch

    print('Epoch:', '%04d' % (epoch + 1), 'cost =', '{:.9f}'.format(avg_cost))
print('Learning finished')

# Test the model using test sets
with torch.no_grad():
    X_test = mnist_test.test_data.view(-1, 28 * 28).float().to(device) / 255
    Y_test = mnist_test.test_labels.to(device)

    prediction = linear(X_test)
    correct_prediction = torch.argmax(prediction, 1) == Y_test
    accuracy = correct_prediction.float().mean()
    print('Accuracy:', accuracy.item())

    # Get one and predict
    r = random.randint(0, len(mnist_test) - 1)
    X_single_data = mnist_test.test_data[r:r + 1].view(-1, 28 * 28).float().to(device) / 255
    Y_single_data = mnist_test.test_labels[r:r + 1].to(device)

    print('Label: ', Y_single_data.item())
    single_prediction = linear(X_single_data)
    print('Prediction: ', torch.argmax(single_prediction, 1).item())
