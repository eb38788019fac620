"""Lab 8: backpropagation by hand on XOR: a 2-2-1 sigmoid network whose gradients are written out with the chain
rule (sigmoid'(x) = sigmoid(x) * (1 - sigmoid(x)), torch.matmul and torch.transpose), checked once against autograd,
then 3001 steps of w = w - lr * dw logged every 500. Deterministic: the lab draws the initial weights at random;
here they are written out."""
import torch

X = torch.FloatTensor([[0, 0], [0, 1], [1, 0], [1, 1]])
Y = torch.FloatTensor([[0], [1], [1], [0]])

w1 = torch.FloatTensor([[0.5, -0.8], [-0.6, 0.7]])
b1 = torch.FloatTensor([0.1, -0.1])
w2 = torch.FloatTensor([[0.9], [-0.7]])
b2 = torch.FloatTensor([0.2])


def sigmoid(x):
    # sigmoid function
    return 1.0 / (1.0 + torch.exp(-x))


def sigmoid_prime(x):
    # derivative of the sigmoid function
    return sigmoid(x) * (1 - sigmoid(x))


def close(a, b):
    # the same up to float32 rounding
    return (a - b).abs().max().item() < 1e-6


def forward(w1, b1, w2, b2):
    l1 = torch.add(torch.matmul(X, w1), b1)
    a1 = sigmoid(l1)
    l2 = torch.add(torch.matmul(a1, w2), b2)
    y_pred = sigmoid(l2)
    return l1, a1, l2, y_pred


# the chain rule against autograd, once: cost = 1/2 * sum((y_pred - Y)^2)
params = [p.clone().requires_grad_(True) for p in (w1, b1, w2, b2)]
cost = 0.5 * ((forward(*params)[3] - Y) ** 2).sum()
cost.backward()

l1, a1, l2, y_pred = forward(w1, b1, w2, b2)
diff = y_pred - Y
d_l2 = diff * sigmoid_prime(l2)
d_w2 = torch.matmul(torch.transpose(a1, 0, 1), d_l2)
d_a1 = torch.matmul(d_l2, torch.transpose(w2, 0, 1))
d_l1 = d_a1 * sigmoid_prime(l1)
d_w1 = torch.matmul(torch.transpose(X, 0, 1), d_l1)
print('cost: {:.6f}'.format(cost.item()))
print('d_w1 by hand:', d_w1)
print('d_w1 autograd:', params[0].grad)
print('same:', close(d_w1, params[0].grad), close(d_w2, params[2].grad),
      close(d_l1.sum(0), params[1].grad), close(d_l2.sum(0), params[3].grad))

learning_rate = 1.0
for step in range(3001):
    # forward
    l1, a1, l2, y_pred = forward(w1, b1, w2, b2)
    diff = y_pred - Y
    cost = 0.5 * (diff ** 2).sum()

    # Back prop (chain rule)
    d_l2 = diff * sigmoid_prime(l2)
    d_b2 = d_l2
    d_w2 = torch.matmul(torch.transpose(a1, 0, 1), d_l2)

    d_a1 = torch.matmul(d_l2, torch.transpose(w2, 0, 1))
    d_l1 = d_a1 * sigmoid_prime(l1)
    d_b1 = d_l1
    d_w1 = torch.matmul(torch.transpose(X, 0, 1), d_l1)

    # weight update
    w1 = w1 - learning_rate * d_w1
    b1 = b1 - learning_rate * torch.mean(d_b1, 0)
    w2 = w2 - learning_rate * d_w2
    b2 = b2 - learning_rate * torch.mean(d_b2, 0)

    if step % 500 == 0:
        print('step {:4d} cost: {:.6f}'.format(step, cost.item()))

y_pred = forward(w1, b1, w2, b2)[3]
print('Hypothesis:', y_pred.squeeze())
print('Predicted:', (y_pred > 0.5).float().squeeze(), 'Accuracy:', ((y_pred > 0.5).float() == Y).float().mean().item())
