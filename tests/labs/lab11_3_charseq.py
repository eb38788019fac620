"""Lab 11-3: a character sequence. The sentence " if you want you" becomes a dictionary of its characters; an RNN
(hidden size = the dictionary size) reads the sentence without its last character, one-hot encoded with np.eye,
and learns the next character at every step, with CrossEntropyLoss and Adam(lr=0.1) for 50 steps, each printing the
loss and the predicted string.
Changed from the lab: the dictionary is sorted(set(sample)), not list(set(sample)), whose order changes from run to
run (Python salts string hashes), and the loss is printed with 6 decimals.
Deterministic: the lab starts from nn.RNN's random weights; here they are PyTorch's U(-1/sqrt(hidden),
1/sqrt(hidden)) drawn by numpy from a fixed seed and copied in, so every library starts from the same numbers."""
import numpy as np
import torch
import torch.optim as optim

sample = " if you want you"

# make dictionary
char_set = sorted(set(sample))
char_dic = {c: i for i, c in enumerate(char_set)}
print(char_dic)

# hyper parameters
dic_size = len(char_dic)
hidden_size = len(char_dic)
learning_rate = 0.1

# data setting
sample_idx = [char_dic[c] for c in sample]
x_data = [sample_idx[:-1]]
x_one_hot = [np.eye(dic_size)[x] for x in x_data]
y_data = [sample_idx[1:]]

# transform as torch tensors
X = torch.FloatTensor(np.array(x_one_hot))
Y = torch.LongTensor(y_data)
print(X.shape, Y.shape)

# declare RNN
rnn = torch.nn.RNN(dic_size, hidden_size, batch_first=True)
rng = np.random.default_rng(2)
bound = 1 / np.sqrt(hidden_size)
with torch.no_grad():
    for p in rnn.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))

# loss & optimizer setting
weights = torch.ones(dic_size)  # a weight for each class, not for each position
criterion = torch.nn.CrossEntropyLoss(weight=weights)
optimizer = optim.Adam(rnn.parameters(), lr=learning_rate)

# start training
for i in range(50):
    optimizer.zero_grad()
    outputs, _status = rnn(X)
    loss = criterion(outputs.view(-1, dic_size), Y.view(-1))
    loss.backward()
    optimizer.step()

    result = outputs.data.numpy().argmax(axis=2)
    result_str = ''.join([char_set[c] for c in np.squeeze(result)])
    print(i, "loss: {:.6f}".format(loss.item()), "prediction: ", result, "prediction str: ", result_str)
print("true Y: ", y_data, "true str:", repr(sample[1:]))
