"""Lab 10-5: VGG (the course's lab-10_5_1 Advance-CNN(VGG)): the network built from a configuration list by
`make_layers` (numbers are 3x3 Conv2d widths with padding 1, 'M' a 2x2 MaxPool2d; optional BatchNorm2d), the
VGG class with nn.AdaptiveAvgPool2d and a Linear/ReLU/Dropout classifier, `_initialize_weights` walking
`self.modules()` (kaiming_normal_ with mode='fan_out', constant_, normal_), parameter counts, the shapes of a
CIFAR-10-sized batch, and a few SGD steps on one fixed batch.
Changed from the lab: no CIFAR-10 download and no pretrained weights; the classifier is sized for 32x32 inputs
(AdaptiveAvgPool2d((2, 2)) and 256 hidden units instead of (7, 7) and 4096), the batch is random numbers.
Random: the weights, the batch and the dropout masks are drawn after manual_seed(777); what is printed holds
whatever the draw, except the losses (checked by convergence)."""
import torch
import torch.nn as nn

torch.manual_seed(777)

cfg = {
    'A': [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],  # 8 convolutions + 3 linear: vgg11
    'D': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],  # vgg16
    'custom': [64, 64, 64, 'M', 128, 128, 128, 'M', 256, 256, 256, 'M'],
}


def make_layers(cfg, batch_norm=False):
    layers = []
    in_channels = 3
    for v in cfg:
        if v == 'M':
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self, features, num_classes=10, init_weights=True):
        super(VGG, self).__init__()
        self.features = features  # the convolutions
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(
            nn.Linear(256 * 2 * 2, 256),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(256, 256),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(256, num_classes),
        )  # the fully connected layers
        if init_weights:
            self._initialize_weights()

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        x = self.classifier(x)
        return x

    def _initialize_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)


def count(module):
    return sum(p.numel() for p in module.parameters())


for name in ['A', 'D']:
    features = make_layers(cfg[name])
    convs = sum(isinstance(m, nn.Conv2d) for m in features.modules())
    pools = sum(isinstance(m, nn.MaxPool2d) for m in features.modules())
    print('cfg {}: {} convolutions, {} pools, {} parameters in the features'.format(name, convs, pools,
                                                                                 count(features)))
print('with batch norm:', count(make_layers(cfg['A'], batch_norm=True)))

conv = make_layers(cfg['custom'], batch_norm=True)
print(conv[0], conv[1], conv[2], conv[9], sep='\n')
CNN = VGG(make_layers(cfg['custom']), num_classes=10, init_weights=True)
print(CNN)
print('parameters:', count(CNN))

# what _initialize_weights did: biases 0, Linear weights of std 0.01, conv weights of std sqrt(2 / fan_out)
first = CNN.features[0]
fan_out = first.weight.size(0) * first.weight.size(2) * first.weight.size(3)
print('conv biases zero:', all(m.bias.abs().max().item() == 0 for m in CNN.modules() if isinstance(m, nn.Conv2d)))
print('conv std near sqrt(2 / fan_out):',
      abs(CNN.features[2].weight.std().item() / (2 / fan_out) ** 0.5 - 1) < 0.05)
print('linear std near 0.01:', abs(CNN.classifier[0].weight.std().item() / 0.01 - 1) < 0.05)

images = torch.randn(8, 3, 32, 32)  # a CIFAR-10-sized batch
labels = torch.LongTensor([0, 1, 2, 3, 4, 5, 6, 7])
x = images
for i, layer in enumerate(CNN.features):
    x = layer(x)
    if isinstance(layer, nn.MaxPool2d):
        print('after layer {:2d} ({}): {}'.format(i, type(layer).__name__, tuple(x.shape)))
print('avgpool:', tuple(CNN.avgpool(x).shape))
print('output:', tuple(CNN(images).shape))

# a few steps on the one batch: the loss must fall
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(CNN.parameters(), lr=0.05, momentum=0.9)
CNN.train()
for step in range(12):
    optimizer.zero_grad()
    loss = criterion(CNN(images), labels)
    loss.backward()
    optimizer.step()
    print('step {} loss {:.4f}'.format(step, loss.item()))
