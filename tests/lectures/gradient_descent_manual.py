# Lecture: 003 "Neural Network", 역전파와 순전파, 실습 1 (seed 003, lines 53-89).
# Plot lines dropped: the lecture drew a scatter/line plot every 5 steps and put the log line in
# plt.title(...); here the same line is printed instead of plotted (plt.* calls removed).
# Reconstructed (not on the slides): x, y and the initial w. The log pins them down: the gradient shrinks by
# 0.78 = 1 - lr * 2 * mean(x^2) per step, so mean(x^2) = 11 -> x = [1, 2, 3, 4, 5]; the fixed point is w = 2 with
# zero cost -> y = 2x; and w0 = 2 - 42.7247 / 22 = 0.057968. With these the four printed lines are reproduced.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

x = torch.FloatTensor([[1], [2], [3], [4], [5]])
y = 2 * x
w = torch.FloatTensor([[0.057968]])  # w.size() = 1*1

lr = 0.01

for step in range(20):
    pre = w*x
    cost = ((pre - y) ** 2).sum() / len(x)
    # (wx-y)^2 미분 시 2(wx-y)*x
    grad = 2*(pre-y).view(5).dot(x.view(5))/len(x)
    w -= lr*grad

    if step % 5 == 0:
        # w.size() = 1*1, grad.size() = 1
        print('step %d : cost=%.4f, w=%.4f, grad=%.4f' % (step, cost.item(), w.item(), grad.item()))
