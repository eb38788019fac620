"""Lab 10-6: ResNet (the course's lab-10_6_1 Advance-CNN(ResNet) and lab-10_6_2 ResNet for CIFAR-10): conv3x3 /
conv1x1 helpers, BasicBlock and Bottleneck with their shortcut (`out += identity` in place, a strided 1x1
convolution and BatchNorm2d as `downsample` where the shape changes), the ResNet class (7x7 stride-2 stem,
MaxPool2d(3, 2, 1), four stages, AdaptiveAvgPool2d((1, 1)), kaiming_normal_ and zero_init_residual), parameter
counts of resnet18/resnet50, the shapes stage by stage, and the CIFAR variant trained for a few steps with
SGD(momentum, weight_decay) and a StepLR schedule on one fixed batch.
Changed from the lab: no CIFAR-10 download, no visdom, no saved models; a 64x64 input for the ImageNet-style
networks, a CIFAR ResNet with one block per stage, the batch is random numbers.
Random: the weights and the batch are drawn after manual_seed(777); what is printed holds whatever the draw,
except the losses (checked by convergence)."""
import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(777)


def conv3x3(in_planes, out_planes, stride=1):
    """3x3 convolution with padding"""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution"""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super(BasicBlock, self).__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x

        out = self.conv1(x)  # 3x3, stride = stride
        out = self.bn1(out)
        out = self.relu(out)

        out = self.conv2(out)  # 3x3, stride 1
        out = self.bn2(out)

        if self.downsample is not None:
            identity = self.downsample(x)

        out += identity
        out = self.relu(out)
        return out


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super(Bottleneck, self).__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x

        out = self.relu(self.bn1(self.conv1(x)))  # 1x1 narrows
        out = self.relu(self.bn2(self.conv2(out)))  # 3x3, stride = stride
        out = self.bn3(self.conv3(out))  # 1x1 widens by expansion

        if self.downsample is not None:
            identity = self.downsample(x)

        out += identity
        out = self.relu(out)
        return out


class ResNet(nn.Module):

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, cifar=False):
        super(ResNet, self).__init__()
        self.cifar = cifar
        if cifar:  # lab 10-6-2: a 3x3 stem, no max pool, narrower stages for 32x32 images
            widths, self.inplanes = (16, 32, 64, 128), 16
            self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        else:
            widths, self.inplanes = (64, 128, 256, 512), 64
            self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)

        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

        # zero the last BN of each residual branch: every block starts as the identity
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )

        layers = []
        layers.append(block(self.inplanes, planes, stride, downsample))
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))

        return nn.Sequential(*layers)

    def forward(self, x, verbose=False):
        x = self.relu(self.bn1(self.conv1(x)))
        if not self.cifar:
            x = self.maxpool(x)
        if verbose:
            print('stem:', tuple(x.shape))
        for name in ['layer1', 'layer2', 'layer3', 'layer4']:
            x = getattr(self, name)(x)
            if verbose:
                print(name + ':', tuple(x.shape))

        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        x = self.fc(x)
        return x


def count(module):
    return sum(p.numel() for p in module.parameters())


resnet18 = ResNet(BasicBlock, [2, 2, 2, 2])  # 2 * (2 + 2 + 2 + 2) + 1 (conv1) + 1 (fc) = 18 layers
print('resnet18 parameters:', count(resnet18))
print(resnet18.layer2)
resnet18.eval()
a = torch.Tensor(1, 3, 64, 64)
out = resnet18(a, verbose=True)
print('output:', out.shape)

resnet50 = ResNet(Bottleneck, [3, 4, 6, 3], zero_init_residual=True)  # 3 * (3 + 4 + 6 + 3) + 2 = 50
print('resnet50 parameters:', count(resnet50))
print(resnet50.layer1[0])
print('zero-initialised bn3:', all(m.bn3.weight.abs().max().item() == 0 for m in resnet50.modules()
                                   if isinstance(m, Bottleneck)))
resnet50.eval()
print('output:', resnet50(torch.Tensor(2, 3, 64, 64)).shape)

print('--- the CIFAR-10 ResNet, a few steps on one batch')
net = ResNet(BasicBlock, [1, 1, 1, 1], 10, True, cifar=True)
print('parameters:', count(net))
images = torch.randn(8, 3, 32, 32)
labels = torch.LongTensor([0, 1, 2, 3, 4, 5, 6, 7])
net.train()
print('output:', net(images, verbose=True).shape)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
lr_sche = optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
for step in range(8):
    optimizer.zero_grad()
    loss = criterion(net(images), labels)
    loss.backward()
    optimizer.step()
    lr_sche.step()
    print('step {} loss {:.4f} lr {:.4f}'.format(step, loss.item(), optimizer.param_groups[0]['lr']))
