"""Lab 11-5: time series. An LSTM reads 7 days of 5 features (open, high, low, volume, close), scaled to [0, 1]
column by column, and a Linear layer on its last output predicts the next day's close; MSELoss and Adam(lr=0.01),
then the test set's error and a few predictions beside the truth.
Changed from the lab: its data-02-stock_daily.csv (Google's daily prices) is not among the course data here, so the
prices are a synthetic stand-in of the same five columns (a drifting sum of sines plus numpy noise, 300 days);
training runs 200 steps, not 500, logged every 20, and the plot is replaced by the printed values.
Deterministic: the lab draws random weights after torch.manual_seed(0); here they are PyTorch's U(-1/sqrt(fan),
1/sqrt(fan)) drawn by numpy from a fixed seed and copied in, so every library starts from the same numbers."""
import numpy as np
import torch
import torch.optim as optim


def minmax_scaler(data):
    numerator = data - np.min(data, 0)
    denominator = np.max(data, 0) - np.min(data, 0)
    return numerator / (denominator + 1e-7)


def build_dataset(time_series, seq_length):
    dataX = []
    dataY = []
    for i in range(0, len(time_series) - seq_length):
        _x = time_series[i:i + seq_length, :]
        _y = time_series[i + seq_length, [-1]]  # next close price
        dataX.append(_x)
        dataY.append(_y)
    return np.array(dataX), np.array(dataY)


def stock_prices(days, seed):
    # a stand-in for the lab's CSV: daily open, high, low, volume and close
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    close = 800 + 0.4 * t + 40 * np.sin(t / 15) + 15 * np.sin(t / 4) + rng.normal(0, 4, days)
    open_ = np.concatenate([[close[0]], close[:-1]]) + rng.normal(0, 3, days)
    high = np.maximum(open_, close) + rng.uniform(0, 8, days)
    low = np.minimum(open_, close) - rng.uniform(0, 8, days)
    volume = 1.5e6 + 4e5 * np.cos(t / 9) + rng.normal(0, 1e5, days)
    return np.stack([open_, high, low, volume, close], axis=1)


seq_length = 7
data_dim = 5
hidden_dim = 10
output_dim = 1
learning_rate = 0.01
iterations = 200

xy = stock_prices(300, seed=0)
print(xy.shape)

train_size = int(len(xy) * 0.7)
train_set = xy[0:train_size]
test_set = xy[train_size - seq_length:]

train_set = minmax_scaler(train_set)
test_set = minmax_scaler(test_set)

trainX, trainY = build_dataset(train_set, seq_length)
testX, testY = build_dataset(test_set, seq_length)
print(trainX.shape, trainY.shape, testX.shape, testY.shape)
print(np.round(trainX[0], 3), "->", np.round(trainY[0], 3))

trainX_tensor = torch.FloatTensor(trainX)
trainY_tensor = torch.FloatTensor(trainY)

testX_tensor = torch.FloatTensor(testX)
testY_tensor = torch.FloatTensor(testY)


class Net(torch.nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim, layers):
        super(Net, self).__init__()
        self.rnn = torch.nn.LSTM(input_dim, hidden_dim, num_layers=layers, batch_first=True)
        self.fc = torch.nn.Linear(hidden_dim, output_dim, bias=True)

    def forward(self, x):
        x, _status = self.rnn(x)
        x = self.fc(x[:, -1])
        return x


net = Net(data_dim, hidden_dim, output_dim, 1)
print(net)
rng = np.random.default_rng(1)
with torch.no_grad():
    for _, p in net.named_parameters():
        fan = hidden_dim  # the LSTM's bound, and the Linear's: its fan-in is hidden_dim too
        p.copy_(torch.from_numpy(rng.uniform(-1, 1, tuple(p.shape)).astype(np.float32) / np.float32(np.sqrt(fan))))

# loss & optimizer setting
criterion = torch.nn.MSELoss()
optimizer = optim.Adam(net.parameters(), lr=learning_rate)

for i in range(iterations):
    optimizer.zero_grad()
    outputs = net(trainX_tensor)
    loss = criterion(outputs, trainY_tensor)
    loss.backward()
    optimizer.step()
    if i % 20 == 0 or i == iterations - 1:
        print(i, "{:.6f}".format(loss.item()))

with torch.no_grad():
    prediction = net(testX_tensor)
    print("test MSE: {:.6f}".format(criterion(prediction, testY_tensor).item()))
    for day in range(0, len(testY), 15):
        print("day {:2d}  true {:.4f}  predicted {:.4f}".format(day, testY[day, 0], prediction[day, 0].item()))
