// The plan as people read it: `mnist-adder summary --plan` and the line recorded with a run.
import Foundation
import NNCore

extension ExecutionPlan {
    /// The algorithm a step runs on the largest piece, as the printout names it.
    func algorithmName(_ step: PlanStep) -> String {
        switch step.operation {
        case .conv2d(let g, _, _):
            let algorithm = step.algorithms[capacity] ?? .im2col
            if algorithm == .winograd { return "winograd F(2,3)" }
            if g.isPointwiseGEMM { return "1×1 GEMM" }
            if g.coversInput { return "GEMM (full kernel)" }
            return "im2col+GEMM"
        case .conv2dReLUMaxPool: return "winograd F(2,3)"
        case .batchNorm2d: return mode == .training ? "batch stats" : "running stats"
        case .relu: return "elementwise"
        case .maxPool2d: return "max pool"
        case .dropout: return mode == .training ? "mask" : "identity"
        case .flatten: return "view"
        case .linear: return "GEMM"
        }
    }

    /// One line with every step's algorithm (`input1 + ReLU: im2col+GEMM; conv1 + ReLU: winograd F(2,3); ...`),
    /// the CPU kind and the pieces: what a run records in its checkpoint's `plan` metadata.
    public var choicesText: String {
        let choices = steps.map { "\($0.name): \(algorithmName($0))" }.joined(separator: "; ")
        return "\(cpu.rawValue), batch \(batch) in \(pieces.count) pieces, \(threads) threads: \(choices)"
    }

    /// The plan as a table: per step its output shape, algorithm, forward FLOPs and output bytes for
    /// the whole batch, and the reason for its algorithm; then the arena's size.
    public var table: String {
        let sizes = Set(pieces.map(\.count)).sorted().map(String.init).joined(separator: " or ")
        var lines = [
            "Plan for \(model.name): \(mode.rawValue), batch \(batch) in \(pieces.count) piece(s) of \(sizes), "
                + "\(threads) thread(s), algorithms for \(cpu.rawValue)"
                + (channelParts > 1 ? "; each convolution's output channels split across \(channelParts) workers" : ""),
            "",
        ]
        let header = ["#", "step", "output", "algorithm", "MFLOP", "output KiB", "why"]
        var rows: [[String]] = []
        for (k, step) in steps.enumerated() {
            let shape = step.outputShape.map(String.init).joined(separator: "×")
            let mflop = Double(2 * step.forwardMACs * batch) / 1e6
            let kib = Double(step.outputCount * batch * MemoryLayout<Float>.stride) / 1024
            rows.append([
                String(k), step.name, shape, algorithmName(step), mflop == 0 ? "-" : String(format: "%.1f", mflop),
                String(format: "%.0f", kib), step.reason,
            ])
        }
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        func format(_ row: [String]) -> String {
            row.enumerated().map { c, text in
                let pad = String(repeating: " ", count: widths[c] - text.count)
                return c == 0 || c == 4 || c == 5 ? pad + text : text + pad
            }.joined(separator: "  ").replacingOccurrences(of: " +$", with: "", options: .regularExpression)
        }
        lines.append(format(header))
        lines += rows.map(format)
        let totalMACs = steps.reduce(0) { $0 + $1.forwardMACs } * batch
        let directMACs = steps.reduce(0) { $0 + $1.directMACs } * batch
        lines.append("")
        lines.append(String(format: "Forward: %.1f MFLOP as computed, %.1f MFLOP as direct convolutions%@.",
                            Double(2 * totalMACs) / 1e6, Double(2 * directMACs) / 1e6,
                            mode == .training ? "; backward about twice that" : ""))
        lines.append(String(format: "Arena: %.2f MiB per %@ (%d buffers), %d arena(s); %.1f MiB in all.",
                            Double(layout.byteCount) / 1_048_576, meetsPerBatch ? "piece" : "worker",
                            buffers.count - 1, arenaCount, Double(memoryBytes) / 1_048_576))
        return lines.joined(separator: "\n")
    }
}

extension Conv2dGeometry {
    /// A 1×1, stride-1, unpadded kernel: one GEMM per image straight on NCHW.
    var isPointwiseGEMM: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }
    /// A kernel that covers the whole unpadded input: a linear layer on the flattened image.
    var coversInput: Bool { padding == 0 && kernelHeight == inputHeight && kernelWidth == inputWidth }
}
