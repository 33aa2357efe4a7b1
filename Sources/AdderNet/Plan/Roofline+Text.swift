// The roofline as people read it: one line per step and direction, then the ceilings and where
// the rest of the call's time went.
import Foundation
import NNCore

extension Roofline {
    /// The roofline as a table: per step and direction its algorithm, GFLOP done (for the batch),
    /// milliseconds, share of the call, GFLOP/s and their share of the sgemm and FMA ceilings;
    /// then the totals and the ceilings with how they were measured.
    public var table: String {
        let workers = plan.workers
        let isa = MachinePeak.instructionSet(width: fmaWidth)
        var lines = [
            "Roofline of \(plan.model.name), \(plan.mode.rawValue), batch \(plan.batch) in \(plan.pieces.count) piece(s), "
                + "\(workers) worker(s); \(blasKernels) BLAS kernels, \(isa) FMA; median of \(calls) calls",
            "",
        ]
        let header = ["step", "pass", "algorithm", "GFLOP", "ms", "share", "GFLOP/s", "% sgemm", "% FMA"]
        func percent(_ x: Double?, of peak: Double?) -> String {
            guard let x, let peak, peak > 0 else { return "-" }
            return String(format: "%.0f%%", 100 * x / peak)
        }
        var body: [[String]] = rows.map { row in
            let gflop = Double(2 * row.multiplyAdds) / 1e9
            return [
                row.step, row.direction, row.algorithm, row.multiplyAdds > 0 ? String(format: "%.3f", gflop) : "-",
                String(format: "%.2f", row.seconds * 1e3), String(format: "%.0f%%", 100 * row.seconds / callSeconds),
                row.gflops.map { String(format: "%.1f", $0) } ?? "-",
                percent(row.gflops, of: sgemmPeak), percent(row.gflops, of: fmaPeak),
            ]
        }
        let timed = rows.reduce(0) { $0 + $1.seconds }
        let macs = rows.reduce(0) { $0 + $1.multiplyAdds }
        let all = Double(2 * macs) / callSeconds / 1e9
        body.append(["steps above", "", "", String(format: "%.3f", Double(2 * macs) / 1e9), String(format: "%.2f", timed * 1e3),
                     String(format: "%.0f%%", 100 * timed / callSeconds), "", "", ""])
        body.append(["whole call", "", "", "", String(format: "%.2f", callSeconds * 1e3), "100%",
                     String(format: "%.1f", all), percent(all, of: sgemmPeak), percent(all, of: fmaPeak)])
        let numeric: Set<Int> = [3, 4, 5, 6, 7, 8]
        let widths = header.indices.map { c in ([header] + body).map { $0[c].count }.max() ?? 0 }
        func format(_ row: [String]) -> String {
            row.enumerated().map { c, text in
                let pad = String(repeating: " ", count: widths[c] - text.count)
                return numeric.contains(c) ? pad + text : text + pad
            }.joined(separator: "  ").replacingOccurrences(of: " +$", with: "", options: .regularExpression)
        }
        lines.append(format(header))
        lines += body.dropLast(2).map(format)
        lines.append("")
        lines += body.suffix(2).map(format)
        lines.append("")
        let fma = fmaPeak.map { String(format: "%.1f GFLOP/s", $0) } ?? "not measured (no FMA loop for this CPU)"
        lines.append("Ceilings on \(workers) thread(s) at once: FMA \(fma) (\(isa), 12 chains a thread); "
            + String(format: "sgemm 512³ %.1f GFLOP/s through the engine's gemm, one call a thread (", sgemmPeak)
            + GEMMDispatch.choice.explanation + "); Winograd transforms in "
            + WinogradKernels.explanation + ".")
        lines.append("A step's ms is its time summed over the pieces and divided by the workers; the whole call also holds "
            + (plan.mode == .training ? "the BatchNorm2d meetings, the gradient sum, the adder and " : "the adder and ")
            + String(format: "the workers' waiting (%.2f ms here). GFLOP counts the multiply-adds the algorithm does (2 FLOP each).",
                     (callSeconds - timed) * 1e3))
        return lines.joined(separator: "\n")
    }
}
