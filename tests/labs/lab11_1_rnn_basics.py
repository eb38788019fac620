"""Lab 11-1: RNN basics. The characters h, e, l, o one-hot encoded; three five-letter words through
torch.nn.RNN(4, 2): without batch_first the first dimension is read as time (3 steps of a batch of 5), with
batch_first=True as the batch (3 words of 5 steps). The parameters' names and shapes, one step written out by hand
(h_t = tanh(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh)), the last output equal to h_n, an initial state, and the
shapes LSTM and GRU return.
Deterministic: the lab draws the weights (nn.RNN's own init); here they are PyTorch's U(-1/sqrt(hidden),
1/sqrt(hidden)) drawn by numpy from a fixed seed and copied in, so every library starts from the same numbers."""
import numpy as np
import torch


def fill_weights(module, seed):
    # the same starting weights in any library: U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) drawn by numpy
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(module.hidden_size)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))


# declare dimension
input_size = 4
hidden_size = 2

# one-hot encoding of the characters
h = [1, 0, 0, 0]
e = [0, 1, 0, 0]
l = [0, 0, 1, 0]  # noqa: E741 - the letter
o = [0, 0, 0, 1]
input_data_np = np.array([[h, e, l, l, o], [e, o, l, l, l], [l, l, e, e, l]], dtype=np.float32)
input_data = torch.Tensor(input_data_np)
print(input_data.shape)

# declare RNN
rnn = torch.nn.RNN(input_size, hidden_size)
fill_weights(rnn, 0)
print(rnn)
for name, param in rnn.named_parameters():
    print(name, param.shape)

# check output: (sequence, batch, hidden) without batch_first
outputs, _status = rnn(input_data)
print(outputs)
print(outputs.size())
print(_status.size())

# batch_first: (batch, sequence, features) in and out; the hidden state stays (layers, batch, hidden)
rnn = torch.nn.RNN(input_size, hidden_size, batch_first=True)
fill_weights(rnn, 0)
outputs, _status = rnn(input_data)
print(outputs.size(), _status.size())
print('last output is h_n:', torch.equal(outputs[:, -1], _status[0]))

# one step by hand, for the first word
W_ih, W_hh, b_ih, b_hh = rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0
hidden = torch.zeros(1, hidden_size)
by_hand = []
for t in range(5):
    x_t = input_data[0:1, t]
    hidden = torch.tanh(x_t @ W_ih.t() + b_ih + hidden @ W_hh.t() + b_hh)
    by_hand.append(hidden)
by_hand = torch.stack(by_hand, dim=1)
print(by_hand)
print('by hand == nn.RNN:', torch.allclose(by_hand, outputs[0:1], atol=1e-6))

# starting from a given hidden state instead of zeros
h0 = torch.ones(1, 3, hidden_size) * 0.5
outputs_h0, status_h0 = rnn(input_data, h0)
print(status_h0)

# two layers, and the other recurrent layers' shapes
rnn2 = torch.nn.RNN(input_size, hidden_size, num_layers=2, batch_first=True)
outputs, _status = rnn2(input_data)
print(rnn2, outputs.size(), _status.size())
lstm = torch.nn.LSTM(input_size, hidden_size, batch_first=True)
outputs, (h_n, c_n) = lstm(input_data)
print(lstm, outputs.size(), h_n.size(), c_n.size())
gru = torch.nn.GRU(input_size, hidden_size, batch_first=True, bidirectional=True)
outputs, h_n = gru(input_data)
print(gru, outputs.size(), h_n.size())
print('parameters:', sum(p.numel() for p in rnn.parameters()), sum(p.numel() for p in lstm.parameters()),
      sum(p.numel() for p in gru.parameters()))
