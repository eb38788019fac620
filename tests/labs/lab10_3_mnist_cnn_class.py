"""Lab 10-3: the deep MNIST CNN (the course's lab-10_2_mnist_deep_cnn) written as a class that trains and tests
itself (lab-10_3_mnist_cnn_class): three Conv2d -> ReLU -> MaxPool2d -> Dropout blocks (1x28x28 -> 32x14x14 ->
64x7x7 -> 128x4x4, the last pool padded), Linear(4*4*128, 625) -> ReLU -> Dropout and Linear(625, 10), both
xavier_uniform_; the optimizer and the loss live in the model (`train_model`, `predict`, `get_accuracy`, with
model.train() / model.eval() switching dropout).
Changed from the lab: MNIST is engine.datasets.MNIST, the offline stand-in of the same shapes (1,438 training and 359
test images), 3 epochs instead of 15, learning rate 0.002 instead of 0.001 (to learn in those 3 epochs), test images
scaled by 1/255 like the training images; the forward pass uses layer4 (the lab's skips its dropout).
Random: the initial weights, the shuffling and the dropout masks are drawn after manual_seed(777)."""
import torch

from engine.datasets import MNIST, ToTensor  # offline stand-in for torchvision.datasets.MNIST / transforms.ToTensor

device = 'cuda' if torch.cuda.is_available() else 'cpu'

torch.manual_seed(777)
if device == 'cuda':
    torch.cuda.manual_seed_all(777)

learning_rate = 0.002
training_epochs = 3
batch_size = 100

mnist_train = MNIST(root='MNIST_data/', train=True, transform=ToTensor(), download=True, tensor_module=torch)
mnist_test = MNIST(root='MNIST_data/', train=False, transform=ToTensor(), download=True, tensor_module=torch)

data_loader = torch.utils.data.DataLoader(dataset=mnist_train, batch_size=batch_size, shuffle=True, drop_last=True)


class CNN(torch.nn.Module):

    def __init__(self):
        super(CNN, self).__init__()
        self._build_net()

    def _build_net(self):
        # dropout keeps 70% of the activations while training (keep_prob), all of them in eval mode
        self.keep_prob = 0.7
        # L1 (?, 1, 28, 28) -> conv (?, 32, 28, 28) -> pool (?, 32, 14, 14)
        self.layer1 = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, kernel_size=3, stride=1, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(kernel_size=2, stride=2),
            torch.nn.Dropout(p=1 - self.keep_prob))
        # L2 (?, 32, 14, 14) -> conv (?, 64, 14, 14) -> pool (?, 64, 7, 7)
        self.layer2 = torch.nn.Sequential(
            torch.nn.Conv2d(32, 64, kernel_size=3, stride=1, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(kernel_size=2, stride=2),
            torch.nn.Dropout(p=1 - self.keep_prob))
        # L3 (?, 64, 7, 7) -> conv (?, 128, 7, 7) -> pool with padding 1 (?, 128, 4, 4)
        self.layer3 = torch.nn.Sequential(
            torch.nn.Conv2d(64, 128, kernel_size=3, stride=1, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(kernel_size=2, stride=2, padding=1),
            torch.nn.Dropout(p=1 - self.keep_prob))
        # L4 fully connected 4x4x128 -> 625
        self.keep_prob = 0.5
        self.fc1 = torch.nn.Linear(4 * 4 * 128, 625, bias=True)
        torch.nn.init.xavier_uniform_(self.fc1.weight)
        self.layer4 = torch.nn.Sequential(
            self.fc1,
            torch.nn.ReLU(),
            torch.nn.Dropout(p=1 - self.keep_prob))
        # L5 final fully connected 625 -> 10
        self.fc2 = torch.nn.Linear(625, 10, bias=True)
        torch.nn.init.xavier_uniform_(self.fc2.weight)

        # the cost and the optimizer belong to the model
        self.criterion = torch.nn.CrossEntropyLoss()  # Softmax is internally computed.
        self.optimizer = torch.optim.Adam(self.parameters(), lr=learning_rate)

    def forward(self, x):
        out = self.layer1(x)
        out = self.layer2(out)
        out = self.layer3(out)
        out = out.view(out.size(0), -1)  # flatten for the fully connected layers
        out = self.layer4(out)
        out = self.fc2(out)
        return out

    def predict(self, x):
        self.eval()
        return self.forward(x)

    def get_accuracy(self, x, y):
        prediction = self.predict(x)
        correct_prediction = torch.argmax(prediction, 1) == y
        self.accuracy = correct_prediction.float().mean()
        return self.accuracy

    def train_model(self, x, y):
        self.train()
        self.optimizer.zero_grad()
        hypothesis = self.forward(x)
        self.cost = self.criterion(hypothesis, y)
        self.cost.backward()
        self.optimizer.step()
        return self.cost


model = CNN().to(device)
print('parameters:', sum(p.numel() for p in model.parameters()))

total_batch = len(data_loader)
print('Learning started. It takes sometime.')
for epoch in range(training_epochs):
    avg_cost = 0

    for X, Y in data_loader:
        X = X.to(device)
        Y = Y.to(device)

        cost = model.train_model(X, Y)

        avg_cost += cost / total_batch

    print('[Epoch: {:>4}] cost = {:>.9}'.format(epoch + 1, avg_cost))

print('Learning Finished!')

with torch.no_grad():
    X_test = mnist_test.test_data.view(len(mnist_test), 1, 28, 28).float().to(device) / 255
    Y_test = mnist_test.test_labels.to(device)

    print('Accuracy:', model.get_accuracy(X_test, Y_test).item())
    same = model.predict(X_test).equal(model.predict(X_test))
    print('eval mode:', not model.training, 'same prediction twice:', same)
