// The progress bar of `mnist-adder train`: one line on standard error with the time left.
import AdderNet
import Foundation

/// A one-line progress bar on standard error, redrawn in place, with the time left in the epoch and in
/// the run; silent when not on a terminal.
///
/// The time left is estimated from this epoch's seconds per batch so far (measured from the first batch
/// it saw, so a resumed epoch counts only its own), plus the last test pass per epoch still to come.
final class ProgressBar {
    let enabled: Bool
    let epochs: Int
    private var lastDraw = Date.distantPast
    private var epochStart: (epoch: Int, done: Int, time: Date)?
    private var testSeconds = 0.0

    init(enabled: Bool, epochs: Int) {
        self.enabled = enabled
        self.epochs = epochs
    }

    func update(epoch: Int, done: Int, total: Int, imagesPerSecond: Double, loss: Double) {
        guard enabled else { return }
        if epochStart?.epoch != epoch { epochStart = (epoch, done, Date()) }
        guard done == total || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        var line = "\repoch \(epoch)/\(epochs) \(bar) "
            + String(format: "%4d/%d  %5.0f img/s  loss %.4f", done, total, imagesPerSecond, loss)
        if let start = epochStart, done > start.done {
            let perBatch = Date().timeIntervalSince(start.time) / Double(done - start.done)
            let epochLeft = perBatch * Double(total - done) + testSeconds
            let runLeft = epochLeft + Double(epochs - epoch) * (perBatch * Double(total) + testSeconds)
            line += "  left: epoch \(Self.clock(epochLeft)), run \(Self.clock(runLeft)) "
        }
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// An epoch ended: its test pass is the estimate for the next ones, and the bar is cleared.
    func finished(_ record: EpochRecord) {
        testSeconds = record.testSeconds
        epochStart = nil
        clear()
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: 120) + "\r").utf8))
    }

    /// `seconds` as m:ss, or h:mm:ss from an hour.
    static func clock(_ seconds: Double) -> String {
        let s = Int(max(0, seconds).rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
