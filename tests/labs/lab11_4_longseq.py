"""Lab 11-4: a long sequence. A 180-character sentence cut into every window of 10 characters (170 of them, one
batch), each with the window shifted by one as its target; a 2-layer RNN followed by a Linear layer (the Net
module) learns the next character, with CrossEntropyLoss and Adam for 100 steps. The predicted sentence is
put together from the first window's prediction and the last character of every other.
Changed from the lab: the dictionary is sorted(set(sentence)), not list(set(sentence)), whose order changes from
run to run (Python salts string hashes); the first windows, and every tenth step's loss (6 decimals) and predicted
sentence are printed instead of all 170 windows at every step; lr=0.02, not 0.1: at 0.1 Adam's first steps
overshoot (the loss rises at steps 2 and 3) and amplify float32 rounding (sums added in another order) about
tenfold a step, so two libraries' runs part after five steps; at 0.02 they agree over all 100 (the sentence is
learned all the same).
Deterministic: the lab starts from random weights; here they are PyTorch's U(-1/sqrt(fan), 1/sqrt(fan)) drawn by
numpy from a fixed seed and copied in, so every library starts from the same numbers."""
import numpy as np
import torch
import torch.optim as optim

sentence = ("if you want to build a ship, don't drum up people together to "
            "collect wood and don't assign them tasks and work, but rather "
            "teach them to long for the endless immensity of the sea.")

# make dictionary
char_set = sorted(set(sentence))
char_dic = {c: i for i, c in enumerate(char_set)}

# hyper parameters
dic_size = len(char_dic)
hidden_size = len(char_dic)
sequence_length = 10  # any arbitrary number
learning_rate = 0.02

# data setting
x_data = []
y_data = []
for i in range(0, len(sentence) - sequence_length):
    x_str = sentence[i:i + sequence_length]
    y_str = sentence[i + 1: i + sequence_length + 1]
    if i < 3:
        print(i, x_str, '->', y_str)
    x_data.append([char_dic[c] for c in x_str])  # x str to index
    y_data.append([char_dic[c] for c in y_str])  # y str to index

x_one_hot = [np.eye(dic_size)[x] for x in x_data]

# transform as torch tensors
X = torch.FloatTensor(np.array(x_one_hot))
Y = torch.LongTensor(y_data)
print(dic_size, X.shape, Y.shape)


# declare RNN + FC
class Net(torch.nn.Module):
    def __init__(self, input_dim, hidden_dim, layers):
        super(Net, self).__init__()
        self.rnn = torch.nn.RNN(input_dim, hidden_dim, num_layers=layers, batch_first=True)
        self.fc = torch.nn.Linear(hidden_dim, hidden_dim, bias=True)

    def forward(self, x):
        x, _status = self.rnn(x)
        x = self.fc(x)
        return x


net = Net(dic_size, hidden_size, 2)
print(net)
rng = np.random.default_rng(2)
bound = 1 / np.sqrt(hidden_size)  # the RNN's and this square Linear's bound alike
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))

# loss & optimizer setting
criterion = torch.nn.CrossEntropyLoss()
optimizer = optim.Adam(net.parameters(), lr=learning_rate)

# start training
for i in range(100):
    optimizer.zero_grad()
    outputs = net(X)
    loss = criterion(outputs.view(-1, dic_size), Y.view(-1))
    loss.backward()
    optimizer.step()

    if i % 10 == 9:
        results = outputs.argmax(dim=2)
        predict_str = ""
        for j, result in enumerate(results.tolist()):
            if j == 0:
                predict_str += ''.join([char_set[t] for t in result])
            else:
                predict_str += char_set[result[-1]]
        print(i, "loss: {:.6f}".format(loss.item()))
        print(predict_str)
