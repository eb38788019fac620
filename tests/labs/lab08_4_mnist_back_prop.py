"""Lab 8-4: backpropagation by hand on MNIST: a 784-30-10 sigmoid network whose parameters are made with
torch.nn.Parameter(torch.Tensor(784, 30)) and torch.nn.init.normal_, targets one-hot encoded with scatter_, the
gradients written out with the chain rule, and the number of correct test predictions logged every 200 steps.
Changed from the lab: MNIST is engine.datasets.MNIST, the offline stand-in of the same shapes (its test split has
359 images, the lab counts the first 1000 of MNIST's), test images scaled by 1/255 like the training images (the lab
feeds them unscaled), and 1000 steps instead of 10000.
Random: the initial weights and the shuffling are drawn after manual_seed(777)."""
import torch

from engine.datasets import MNIST, ToTensor  # offline stand-in for torchvision.datasets.MNIST / transforms.ToTensor

device = 'cuda' if torch.cuda.is_available() else 'cpu'

torch.manual_seed(777)
if device == 'cuda':
    torch.cuda.manual_seed_all(777)

mnist_train = MNIST(root='MNIST_data/', train=True, transform=ToTensor(), download=True, tensor_module=torch)
mnist_test = MNIST(root='MNIST_data/', train=False, transform=ToTensor(), download=True, tensor_module=torch)

batch_size = 10
data_loader = torch.utils.data.DataLoader(dataset=mnist_train, batch_size=batch_size, shuffle=True, drop_last=True)

w1 = torch.nn.Parameter(torch.Tensor(784, 30)).to(device)
b1 = torch.nn.Parameter(torch.Tensor(30)).to(device)
w2 = torch.nn.Parameter(torch.Tensor(30, 10)).to(device)
b2 = torch.nn.Parameter(torch.Tensor(10)).to(device)

torch.nn.init.normal_(w1)
torch.nn.init.normal_(b1)
torch.nn.init.normal_(w2)
torch.nn.init.normal_(b2)


def sigmoid(x):
    # sigmoid function
    return 1.0 / (1.0 + torch.exp(-x))


def sigmoid_prime(x):
    # derivative of the sigmoid function
    return sigmoid(x) * (1 - sigmoid(x))


X_test = mnist_test.test_data.view(-1, 28 * 28).float().to(device)[:1000] / 255
Y_test = mnist_test.test_labels.to(device)[:1000]
print(X_test.shape, Y_test.shape)

learning_rate = 0.5
i = 0
with torch.no_grad():
    while not i == 1000:
        for X, Y in data_loader:
            i += 1

            # forward
            X = X.view(-1, 28 * 28).to(device)
            Y = torch.zeros((batch_size, 10)).scatter_(1, Y.unsqueeze(1), 1).to(device)  # one-hot
            l1 = torch.add(torch.matmul(X, w1), b1)
            a1 = sigmoid(l1)
            l2 = torch.add(torch.matmul(a1, w2), b2)
            y_pred = sigmoid(l2)

            diff = y_pred - Y

            # Back prop (chain rule)
            d_l2 = diff * sigmoid_prime(l2)
            d_b2 = d_l2
            d_w2 = torch.matmul(torch.transpose(a1, 0, 1), d_l2)

            d_a1 = torch.matmul(d_l2, torch.transpose(w2, 0, 1))
            d_l1 = d_a1 * sigmoid_prime(l1)
            d_b1 = d_l1
            d_w1 = torch.matmul(torch.transpose(X, 0, 1), d_l1)

            w1 = w1 - learning_rate * d_w1
            b1 = b1 - learning_rate * torch.mean(d_b1, 0)
            w2 = w2 - learning_rate * d_w2
            b2 = b2 - learning_rate * torch.mean(d_b2, 0)

            if i % 200 == 0:
                l1 = torch.add(torch.matmul(X_test, w1), b1)
                a1 = sigmoid(l1)
                l2 = torch.add(torch.matmul(a1, w2), b2)
                y_pred = sigmoid(l2)

                acct_mat = torch.argmax(y_pred, 1) == Y_test
                acct_res = acct_mat.sum()
                print(acct_res.item())

            if i == 1000:
                break
