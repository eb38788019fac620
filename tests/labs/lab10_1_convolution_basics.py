"""Lab 10-1: convolution basics. nn.Conv2d's arguments and parameters, the output size
floor((input - filter + 2 * padding) / stride) + 1 worked through exercises like the lecture's, a convolution and
its gradients on written-out numbers (stride, padding, several channels), max and average pooling, and the shapes
through the MNIST CNN of lab 10-2.
Deterministic: inputs and weights are written out; layers whose weights are drawn print only shapes and reprs."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True)
conv = nn.Conv2d(1, 1, 3)
print(conv)
print('weight:', conv.weight.shape, 'bias:', conv.bias.shape)
conv = nn.Conv2d(in_channels=3, out_channels=10, kernel_size=(5, 3), stride=2, padding=1, bias=False)
print(conv)
print('weight:', conv.weight.shape, 'bias:', conv.bias)


# input (N, C, H, W) = (batch size, channels, height, width)
def output_size(size, filter_size, stride=1, padding=0):
    return (size - filter_size + 2 * padding) // stride + 1


print('--- output size = (input - filter + 2 * padding) / stride + 1, rounded down')
for height, width, filter_size, stride, padding in [(227, 227, 11, 4, 0), (64, 64, 7, 2, 0), (32, 32, 5, 1, 2),
                                                    (32, 64, 5, 1, 0), (64, 32, 3, 1, 1), (28, 28, 3, 2, 0)]:
    conv = nn.Conv2d(1, 1, filter_size, stride=stride, padding=padding)
    inputs = torch.Tensor(1, 1, height, width)
    out = conv(inputs)
    print('input {}x{} filter {} stride {} padding {} -> {} expected ({}, {})'.format(
        height, width, filter_size, stride, padding, out.shape, output_size(height, filter_size, stride, padding),
        output_size(width, filter_size, stride, padding)))

print('--- one filter by hand')
x = torch.FloatTensor([[[[1, 2, 3, 0, 1],
                         [0, 1, 2, 3, 1],
                         [3, 0, 1, 2, 2],
                         [2, 3, 0, 1, 0],
                         [1, 2, 2, 0, 3]]]])
w = torch.FloatTensor([[[[1, 0, -1],
                         [2, 0, -2],
                         [1, 0, -1]]]])  # a vertical-edge (Sobel) filter
b = torch.FloatTensor([0.5])
print(F.conv2d(x, w))
print(F.conv2d(x, w, b))
print(F.conv2d(x, w, stride=2))
print(F.conv2d(x, w, padding=1))
print(F.conv2d(x, w, stride=2, padding=1).shape)
# the first output by hand: the filter times the top-left 3x3 patch, summed
print('by hand:', (x[0, 0, :3, :3] * w[0, 0]).sum().item())

# the same filter in a layer: copy the weights in, then train them
conv = nn.Conv2d(1, 1, 3, bias=True)
with torch.no_grad():
    conv.weight.copy_(w)
    conv.bias.fill_(0.5)
out = conv(x)
print(out.detach())
x.requires_grad_(True)
out = conv(x)
out.sum().backward()
print('d sum / d x:')
print(x.grad)  # how many windows see each pixel, weighted by the filter tap that sees it
print('d sum / d weight:')
print(conv.weight.grad)  # the sum of the pixels each tap sees
print('d sum / d bias:', conv.bias.grad)

print('--- two input channels, two filters')
x2 = torch.FloatTensor([[[[1, 0, 2],
                          [2, 1, 0],
                          [0, 1, 1]],
                         [[0, 1, 1],
                          [1, 0, 2],
                          [2, 2, 0]]]])
w2 = torch.FloatTensor([[[[1, 1], [0, 1]], [[0, 1], [1, 0]]],
                        [[[1, 0], [0, 0]], [[0, 0], [0, 2]]]])
print(x2.shape, w2.shape)
print(F.conv2d(x2, w2))
print(F.conv2d(x2, w2, padding=1, stride=2))

print('--- pooling')
pool = nn.MaxPool2d(kernel_size=2)
print(pool)
y = torch.FloatTensor([[[[1, 1, 2, 4],
                         [5, 6, 7, 8],
                         [3, 2, 1, 0],
                         [1, 2, 3, 4]]]])
print(pool(y))
print(F.max_pool2d(y, 2, stride=1))
print(F.max_pool2d(y, 3, stride=2, padding=1))
print(nn.AvgPool2d(2)(y))
print(F.avg_pool2d(y, 3, stride=1, padding=1))
y.requires_grad_(True)
pool(y).sum().backward()
print(y.grad)  # the gradient goes to each window's maximum

print('--- the MNIST CNN of lab 10-2, shape by shape')
inputs = torch.Tensor(1, 1, 28, 28)
print(inputs.shape)
conv1 = nn.Conv2d(1, 32, 3, padding=1)
print(conv1)
conv2 = nn.Conv2d(32, 64, kernel_size=3, stride=1, padding=1)
print(conv2)
pool = nn.MaxPool2d(2)
print(pool)
out = conv1(inputs)
print(out.shape)
out = pool(out)
print(out.shape)
out = conv2(out)
print(out.shape)
out = pool(out)
print(out.shape)
print(out.size(0), out.size(1), out.size(2), out.size(3))
out = out.view(out.size(0), -1)
print(out.shape)
fc = nn.Linear(3136, 10)
out = fc(out)
print(out.shape)
