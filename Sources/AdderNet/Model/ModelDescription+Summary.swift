// A description as PyTorch prints its module, and its parameter table: what `summary` shows.
import Foundation

extension ModelDescription {
    /// The module tree as `print(model)` shows it in PyTorch for the network's module in
    /// scripts/pytorch/ (`Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1))`, ...): every named layer
    /// in definition order; functional ReLU, flatten and unnamed pools are not modules and not shown.
    public var moduleDescription: String {
        func line(_ layer: Layer) -> String? {
            switch layer {
            case .conv2d(let c):
                let k = c.kernelSize, s = c.stride
                var text = "Conv2d(\(c.inChannels), \(c.outChannels), kernel_size=(\(k), \(k)), stride=(\(s), \(s))"
                if c.padding != 0 { text += ", padding=(\(c.padding), \(c.padding))" }
                if !c.bias { text += ", bias=False" }
                return "(\(c.name)): " + text + ")"
            case .batchNorm2d(let b):
                return "(\(b.name)): BatchNorm2d(\(b.numFeatures), eps=\(pythonFloat(b.eps)), momentum=\(pythonFloat(b.momentum)), "
                    + "affine=True, track_running_stats=True)"
            case .maxPool2d(let p):
                guard let name = p.name else { return nil }
                return "(\(name)): MaxPool2d(kernel_size=\(p.kernelSize), stride=\(p.stride), padding=0, dilation=1, ceil_mode=False)"
            case .dropout(let d):
                return "(\(d.name)): Dropout(p=\(pythonFloat(d.p)), inplace=False)"
            case .linear(let l):
                return "(\(l.name)): Linear(in_features=\(l.inFeatures), out_features=\(l.outFeatures), bias=\(l.bias ? "True" : "False"))"
            case .relu, .flatten:
                return nil
            }
        }
        let lines = (layers + adder.map(Layer.linear)).compactMap(line).map { "  " + $0 }
        return (["Net("] + lines + [")"]).joined(separator: "\n")
    }

    /// One line per parameter and buffer, `name  shape  count`, then the total of trainable values:
    /// the table `summary` prints.
    public var parameterTable: String {
        let entries = stateEntries
        let width = entries.map(\.key.count).max() ?? 0
        var lines: [String] = []
        for entry in entries {
            let shapeText = "[" + entry.shape.map(String.init).joined(separator: ", ") + "]"
            let padded = entry.key + String(repeating: " ", count: width - entry.key.count)
            let shapeColumn = shapeText + String(repeating: " ", count: max(0, 16 - shapeText.count))
            lines.append("\(padded)  \(shapeColumn)  \(entry.count)\(entry.isParameter ? "" : "  (buffer)")")
        }
        lines.append("Total parameters: \(parameterCount)")
        return lines.joined(separator: "\n")
    }
}

/// A Float as Python's repr prints it for these settings (1e-05, 0.1, 0.25).
private func pythonFloat(_ value: Float) -> String {
    if value != 0 && abs(value) < 1e-4 {
        let exponent = Int(log10(Double(abs(value))).rounded(.down))
        let mantissa = Double(value) / pow(10, Double(exponent))
        let m = mantissa.rounded() == mantissa ? String(Int(mantissa)) : String(mantissa)
        return "\(m)e-\(String(format: "%02d", -exponent))"
    }
    return String(Double(String(value)) ?? Double(value))
}
