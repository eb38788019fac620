"""Lab 11-2: "hihello". An RNN (hidden size = the 5 characters) reads "hihell" one-hot encoded and learns to
predict the next character at every step ("ihello"): the RNN's outputs are the class scores, trained with
CrossEntropyLoss (class weights of one, as the lab writes them) and Adam(lr=0.1) for 100 steps, each printing the
loss and the predicted string.
Deterministic: the lab starts from nn.RNN's random weights; here they are PyTorch's U(-1/sqrt(hidden),
1/sqrt(hidden)) drawn by numpy from a fixed seed and copied in, so every library starts from the same numbers."""
import numpy as np
import torch
import torch.optim as optim

char_set = ['h', 'i', 'e', 'l', 'o']

# hyper parameters
input_size = len(char_set)
hidden_size = len(char_set)
learning_rate = 0.1

# data setting: hihell -> ihello
x_data = [[0, 1, 0, 2, 3, 3]]
x_one_hot = [[[1, 0, 0, 0, 0],
              [0, 1, 0, 0, 0],
              [1, 0, 0, 0, 0],
              [0, 0, 1, 0, 0],
              [0, 0, 0, 1, 0],
              [0, 0, 0, 1, 0]]]
y_data = [[1, 0, 2, 3, 3, 4]]

# transform as torch tensors
X = torch.Tensor(x_one_hot).float()
Y = torch.Tensor(y_data).long()

# declare RNN; batch_first: (batch, sequence, features)
rnn = torch.nn.RNN(input_size, hidden_size, batch_first=True)
rng = np.random.default_rng(7)
bound = 1 / np.sqrt(hidden_size)
with torch.no_grad():
    for p in rnn.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))

# loss & optimizer setting
weights = torch.Tensor(np.ones(input_size)).float()  # a weight for each class, not for each position
criterion = torch.nn.CrossEntropyLoss(weight=weights)
optimizer = optim.Adam(rnn.parameters(), lr=learning_rate)

# start training
for i in range(100):
    optimizer.zero_grad()
    outputs, _status = rnn(X)
    loss = criterion(outputs.view(-1, input_size), Y.view(-1))
    loss.backward()
    optimizer.step()

    result = outputs.data.numpy().argmax(axis=2)
    result_str = ''.join([char_set[c] for c in np.squeeze(result)])
    print(i, "loss: {:.6f}".format(loss.item()), "prediction: ", result, "true Y: ", y_data,
          "prediction str: ", result_str)
