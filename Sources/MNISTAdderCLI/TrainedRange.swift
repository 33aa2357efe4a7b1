// The addend range a checkpoint was trained on, as predict and serve enforce it.
import AdderNet
import Foundation

/// The range recorded in a checkpoint's metadata (`Checkpoint.addendRange`), or a `CommandError` naming the
/// file when the metadata is unreadable.
func trainedAddendRange(_ metadata: [String: String], checkpoint url: URL) throws -> ClosedRange<Int> {
    do {
        return try Checkpoint.addendRange(metadata: metadata)
    } catch let error as CheckpointError {
        throw CommandError("\(url.path): \(error)", status: .dataError)
    }
}

/// Refuses an addend outside the range the checkpoint was trained on, in one line naming the range.
func checkAddend(_ addend: Int, trainedOn metadata: [String: String], checkpoint url: URL) throws {
    let range = try trainedAddendRange(metadata, checkpoint: url)
    guard range.contains(addend) else {
        throw CommandError(
            "--addend: expected an integer in \(range.lowerBound)...\(range.upperBound) (the range \(url.lastPathComponent) "
                + "was trained on), found \(addend)")
    }
}

/// `serve --addend-range`: the range in force, which may only narrow the trained one. `requested` nil: the
/// trained range itself.
func servedAddendRange(_ requested: ClosedRange<Int>?, trained: ClosedRange<Int>, checkpoint url: URL) throws
    -> ClosedRange<Int>
{
    guard let requested else { return trained }
    guard trained.contains(requested.lowerBound), trained.contains(requested.upperBound) else {
        throw CommandError(
            "--addend-range: expected a range within \(trained.lowerBound)...\(trained.upperBound) (the range "
                + "\(url.lastPathComponent) was trained on; it may only be narrowed), found "
                + "\(requested.lowerBound)...\(requested.upperBound)")
    }
    return requested
}

/// The predictions of a folder as a table: image, digit, its probability, the sum, the true digit when
/// known, and the reason when the answer is unsure.
func predictionTable(
    _ rows: [(source: String, digit: Int?, probability: Float?, sum: Int?, label: Int?, unsure: String?)], addend: Int
) -> String {
    let width = min(60, max(5, rows.map(\.source.count).max() ?? 5))
    func pad(_ text: String, _ n: Int) -> String { text.count >= n ? text : text + String(repeating: " ", count: n - text.count) }
    let hasLabels = rows.contains { $0.label != nil }
    var lines = [pad("image", width) + "  digit  probability  " + "sum (+\(addend))" + (hasLabels ? "  true" : "")]
    for row in rows {
        guard let digit = row.digit, let p = row.probability, let sum = row.sum else {
            lines.append(pad(row.source, width) + "  blank image, no digit found")
            continue
        }
        var line = pad(row.source, width) + "  " + "\(digit)".leftPadded(to: 5) + "  "
            + String(format: "%11.3f", p) + "  " + "\(sum)".leftPadded(to: 8 + "\(addend)".count)
        if let label = row.label { line += "  " + "\(label)".leftPadded(to: 4) }
        if let reason = row.unsure { line += "  unsure: " + reason }
        lines.append(line)
    }
    return lines.joined(separator: "\n")
}
