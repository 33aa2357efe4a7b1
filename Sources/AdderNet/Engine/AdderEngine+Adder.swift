// The adder on the whole batch: (argmax digit, integer) → the description's linear layers → sum.
import NNCore

extension AdderEngine {
    /// The adder on (argmax digit, integer) pairs: (N, 2) → each of `model.adder` → (N). Returns the
    /// sums and each layer's input (for the backward pass).
    static func adderForward(_ network: AdderNetwork, digits: [Int], addends: [Int]) -> (sums: Tensor, inputs: [Tensor]) {
        let n = digits.count
        var x = Tensor(shape: [n, 2], scalars: zip(digits, addends).flatMap { [Float($0), Float($1)] })
        var inputs: [Tensor] = []
        var p = network.model.adderParameterStart
        for layer in network.model.adder {
            inputs.append(x)
            let bias = layer.bias ? network.parameters[p + 1] : Tensor(shape: [layer.outFeatures])
            x = linearForward(input: x, weight: network.parameters[p], bias: bias)
            p += layer.bias ? 2 : 1
        }
        return (x.reshaped(to: [n]), inputs)
    }

    /// The adder's parameter gradients from the sums' gradient (N, 1), times `scale`, in parameter order.
    static func adderBackward(_ network: AdderNetwork, inputs: [Tensor], gradSums: Tensor, scale: Float) -> [Tensor] {
        var grads: [Tensor] = []
        var g = gradSums
        if scale != 1 { g.scalars = g.scalars.map { $0 * scale } }
        var p = network.parameters.count
        for (k, layer) in network.model.adder.enumerated().reversed() {
            p -= layer.bias ? 2 : 1
            let back = linearBackward(input: inputs[k], weight: network.parameters[p], gradOutput: g)
            grads.insert(contentsOf: layer.bias ? [back.gradWeight, back.gradBias] : [back.gradWeight], at: 0)
            g = back.gradInput
        }
        return grads
    }
}
