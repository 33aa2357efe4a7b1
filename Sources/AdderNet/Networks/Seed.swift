// The seed network, as the PyTorch exercise defines it (scripts/pytorch/seed_net.py): eight
// convolutions with a max-pool after the third, ReLU after every convolution but the last, whose
// 10 outputs at 1×1 are the logits; 100,461 parameters with the adder.

extension ModelDescription {
    /// The seed network, the default. Matches `SeedNet` in scripts/pytorch/seed_net.py.
    public static let seed = ModelDescription(
        name: "seed",
        layers: [
            .conv2d(Conv2d("input1", 1, 16, kernelSize: 3)), .relu,       // 28 → 26
            .conv2d(Conv2d("conv1", 16, 32, kernelSize: 3)), .relu,       // → 24
            .conv2d(Conv2d("conv2", 32, 64, kernelSize: 3)), .relu,       // → 22
            .maxPool2d(MaxPool2d("pool", kernelSize: 2, stride: 2)),      // → 11
            .conv2d(Conv2d("oneconv1", 64, 16, kernelSize: 1)), .relu,
            .conv2d(Conv2d("conv3", 16, 32, kernelSize: 3)), .relu,       // → 9
            .conv2d(Conv2d("conv4", 32, 64, kernelSize: 3)), .relu,       // → 7
            .conv2d(Conv2d("conv5", 64, 64, kernelSize: 3)), .relu,       // → 5
            .conv2d(Conv2d("conv6", 64, 10, kernelSize: 5)),              // → 1: the logits
        ])
}
