"""Lab 10-2: MNIST with a convolutional network (the course's lab-10_1_mnist_cnn): two blocks of
Conv2d(3x3, padding=1) -> ReLU -> MaxPool2d(2) (1x28x28 -> 32x14x14 -> 64x7x7) and a Linear(7*7*64, 10) initialised
with xavier_uniform_, trained with Adam (lr=0.001) on batches of 100, `avg_cost += cost / total_batch`, then the
model's repr and the test accuracy.
Changed from the lab: MNIST is engine.datasets.MNIST, the offline stand-in of the same shapes (1,438 training and 359
test images), 3 epochs instead of 15 (14 batches each), test images scaled by 1/255 like the training images.
Random: the initial weights and the shuffling are drawn after manual_seed(777)."""
import torch

from engine.datasets import MNIST, ToTensor  # offline stand-in for torchvision.datasets.MNIST / transforms.ToTensor

device = 'cuda' if torch.cuda.is_available() else 'cpu'

torch.manual_seed(777)
if device == 'cuda':
    torch.cuda.manual_seed_all(777)

learning_rate = 0.001
training_epochs = 3
batch_size = 100

mnist_train = MNIST(root='MNIST_data/', train=True, transform=ToTensor(), download=True, tensor_module=torch)
mnist_test = MNIST(root='MNIST_data/', train=False, transform=ToTensor(), download=True, tensor_module=torch)

data_loader = torch.utils.data.DataLoader(dataset=mnist_train, batch_size=batch_size, shuffle=True, drop_last=True)


class CNN(torch.nn.Module):

    def __init__(self):
        super(CNN, self).__init__()
        # L1 image in (?, 1, 28, 28) -> conv (?, 32, 28, 28) -> pool (?, 32, 14, 14)
        self.layer1 = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, kernel_size=3, stride=1, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(kernel_size=2, stride=2))
        # L2 (?, 32, 14, 14) -> conv (?, 64, 14, 14) -> pool (?, 64, 7, 7)
        self.layer2 = torch.nn.Sequential(
            torch.nn.Conv2d(32, 64, kernel_size=3, stride=1, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(kernel_size=2, stride=2))
        # fully connected 7x7x64 -> 10
        self.fc = torch.nn.Linear(7 * 7 * 64, 10, bias=True)
        torch.nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        out = self.layer1(x)
        out = self.layer2(out)
        out = out.view(out.size(0), -1)  # flatten for the fully connected layer
        out = self.fc(out)
        return out


model = CNN().to(device)

criterion = torch.nn.CrossEntropyLoss().to(device)  # Softmax is internally computed.
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

total_batch = len(data_loader)
print('Learning started. It takes sometime.')
for epoch in range(training_epochs):
    avg_cost = 0

    for X, Y in data_loader:
        # image is already (1, 28, 28): no reshape; label is not one-hot encoded
        X = X.to(device)
        Y = Y.to(device)

        optimizer.zero_grad()
        hypothesis = model(X)
        cost = criterion(hypothesis, Y)
        cost.backward()
        optimizer.step()

        avg_cost += cost / total_batch

    print('[Epoch: {:>4}] cost = {:>.9}'.format(epoch + 1, avg_cost))

print('Learning Finished!')

with torch.no_grad():
    X_test = mnist_test.test_data.view(len(mnist_test), 1, 28, 28).float().to(device) / 255
    Y_test = mnist_test.test_labels.to(device)

    prediction = model(X_test)
    correct_prediction = torch.argmax(prediction, 1) == Y_test
    accuracy = correct_prediction.float().mean()
    print('Accuracy:', accuracy.item())

print(model)
