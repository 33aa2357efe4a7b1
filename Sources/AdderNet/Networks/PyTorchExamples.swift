// The network of pytorch/examples mnist/main.py, with the seed's adder on its logits
// (scripts/pytorch/examples_net.py). Its log_softmax is left out: the logits go to cross-entropy,
// which is F.nll_loss(F.log_softmax(x)). 1,199,882 parameters, 1,199,933 with the adder.

extension ModelDescription {
    /// pytorch/examples' MNIST network. Matches `ExamplesNet` in scripts/pytorch/examples_net.py.
    public static let pytorchExamples = ModelDescription(
        name: "pytorch-examples",
        layers: [
            .conv2d(Conv2d("conv1", 1, 32, kernelSize: 3)), .relu,        // 28 → 26
            .conv2d(Conv2d("conv2", 32, 64, kernelSize: 3)), .relu,       // → 24
            .maxPool2d(MaxPool2d(kernelSize: 2)),                          // → 12
            .dropout(Dropout("dropout1", p: 0.25)),
            .flatten,                                                      // 64·12·12 = 9216
            .linear(Linear("fc1", 9216, 128)), .relu,
            .dropout(Dropout("dropout2", p: 0.5)),
            .linear(Linear("fc2", 128, 10)),                               // the logits
        ])
}
