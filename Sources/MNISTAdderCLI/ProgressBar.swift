// The progress bar of `mnist-adder train`: one line on standard error with the time left.
import AdderNet
import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// A one-line progress bar on standard error, redrawn in place, with the time left in the epoch and in
/// the run; silent when not on a terminal. The line fits the terminal's width (a longer one would wrap,
/// and each redraw would then start a new line): the bar narrows, then goes, then the line is cut.
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
        let counts = String(format: "%4d/%d  %5.0f img/s  loss %.4f", done, total, imagesPerSecond, loss)
        var left = ""
        if let start = epochStart, done > start.done {
            let perBatch = Date().timeIntervalSince(start.time) / Double(done - start.done)
            let epochLeft = perBatch * Double(total - done) + testSeconds
            let runLeft = epochLeft + Double(epochs - epoch) * (perBatch * Double(total) + testSeconds)
            left = "  left: epoch \(Self.clock(epochLeft)), run \(Self.clock(runLeft))"
        }
        let line = Self.fitted(
            prefix: "epoch \(epoch)/\(epochs) ", counts: " " + counts + left, fraction: total == 0 ? 1 : Double(done) / Double(total),
            columns: Self.terminalColumns() - 1)
        FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
    }

    /// The bar's line in at most `columns` characters: `prefix`, a bar of 30 cells `fraction` full (fewer
    /// when the line would be too long, none under 10), then `counts`, cut at `columns`.
    static func fitted(prefix: String, counts: String, fraction: Double, columns: Int) -> String {
        let room = columns - prefix.count - counts.count
        let width = room >= 10 ? min(30, room) : 0
        let filled = min(width, max(0, Int(Double(width) * fraction)))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        return String((prefix + bar + counts).prefix(max(0, columns)))
    }

    /// The width of the terminal on standard error in characters, 80 when it does not say.
    static func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// An epoch ended: its test pass is the estimate for the next ones, and the bar is cleared.
    func finished(_ record: EpochRecord) {
        testSeconds = record.testSeconds
        epochStart = nil
        clear()
    }

    func clear() {
        guard enabled else { return }
        // Back to the line's start, and erase to its end (ANSI EL).
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    /// `seconds` as m:ss, or h:mm:ss from an hour.
    static func clock(_ seconds: Double) -> String {
        let s = Int(max(0, seconds).rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
