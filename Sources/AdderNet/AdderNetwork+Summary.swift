// The network described as PyTorch prints the seed's module, plus each parameter's shape.

extension AdderNetwork {
    /// The module tree as `print(model)` shows it in PyTorch for the seed network
    /// (`Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1))`, ...), in definition order.
    public static var moduleDescription: String {
        func conv(_ s: ConvSpec) -> String {
            let g = s.geometry
            return "  (\(s.name)): Conv2d(\(g.inChannels), \(g.outChannels), kernel_size=(\(g.kernelHeight), "
                + "\(g.kernelWidth)), stride=(\(g.stride), \(g.stride)))"
        }
        var lines = ["Net("]
        lines += convsBeforePool.map(conv)
        lines.append("  (pool): MaxPool2d(kernel_size=\(poolKernel), stride=\(poolKernel), padding=0, dilation=1, ceil_mode=False)")
        lines += convsAfterPool.map(conv)
        lines += linears.map { "  (\($0.name)): Linear(in_features=\($0.inFeatures), out_features=\($0.outFeatures), bias=True)" }
        lines.append(")")
        return lines.joined(separator: "\n")
    }

    /// One line per parameter, `name  shape  count`, then the total: the table `summary` prints.
    public static var parameterTable: String {
        let width = parameterNames.map(\.count).max() ?? 0
        var lines: [String] = []
        for (name, shape) in zip(parameterNames, parameterShapes) {
            let shapeText = "[" + shape.map(String.init).joined(separator: ", ") + "]"
            let padded = name + String(repeating: " ", count: width - name.count)
            let shapeColumn = shapeText + String(repeating: " ", count: max(0, 16 - shapeText.count))
            lines.append("\(padded)  \(shapeColumn)  \(shape.reduce(1, *))")
        }
        lines.append("Total parameters: \(parameterCount)")
        return lines.joined(separator: "\n")
    }
}
