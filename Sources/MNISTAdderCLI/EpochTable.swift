// Columns of the epoch table `train` prints, kept to a fixed width whatever the value.
import Foundation

/// A loss in seven characters, so the columns after it stay aligned: four decimals while they fit
/// ("89.4000", below 100), then one ("1234.5", below 100,000), then scientific ("1.2e+07"). The
/// loss is finite here (a non-finite one stops the run before its epoch line).
func lossColumn(_ loss: Double) -> String {
    let width = 7
    let text = ["%.4f", "%.1f"].lazy.map { String(format: $0, loss) }.first { $0.count <= width }
        ?? String(format: "%.1e", loss)
    return text.leftPadded(to: width)
}
