// The seed network with batch normalization: every convolution but conv6 loses its bias and is
// followed by a BatchNorm2d named after it, in PyTorch's usual order Conv2d → BatchNorm2d → ReLU
// (scripts/pytorch/seed_bn_net.py).

extension ModelDescription {
    /// The seed network with BatchNorm2d. Matches `SeedBNNet` in scripts/pytorch/seed_bn_net.py.
    public static let seedBN = ModelDescription(
        name: "seed-bn",
        layers: [
            .conv2d(Conv2d("input1", 1, 16, kernelSize: 3, bias: false)), .batchNorm2d(BatchNorm2d("input1_bn", 16)), .relu,
            .conv2d(Conv2d("conv1", 16, 32, kernelSize: 3, bias: false)), .batchNorm2d(BatchNorm2d("conv1_bn", 32)), .relu,
            .conv2d(Conv2d("conv2", 32, 64, kernelSize: 3, bias: false)), .batchNorm2d(BatchNorm2d("conv2_bn", 64)), .relu,
            .maxPool2d(MaxPool2d("pool", kernelSize: 2, stride: 2)),
            .conv2d(Conv2d("oneconv1", 64, 16, kernelSize: 1, bias: false)), .batchNorm2d(BatchNorm2d("oneconv1_bn", 16)), .relu,
            .conv2d(Conv2d("conv3", 16, 32, kernelSize: 3, bias: false)), .batchNorm2d(BatchNorm2d("conv3_bn", 32)), .relu,
            .conv2d(Conv2d("conv4", 32, 64, kernelSize: 3, bias: false)), .batchNorm2d(BatchNorm2d("conv4_bn", 64)), .relu,
            .conv2d(Conv2d("conv5", 64, 64, kernelSize: 3, bias: false)), .batchNorm2d(BatchNorm2d("conv5_bn", 64)), .relu,
            .conv2d(Conv2d("conv6", 64, 10, kernelSize: 5)),
        ])
}
