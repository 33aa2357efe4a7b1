// The progress bar of `train` on a terminal, as a user sees it: run in a pseudo-terminal made by
// script(1) with the window 80 columns wide, every redraw of the bar must fit on one line (a longer
// one wraps, and each redraw then starts a new line).
import Foundation
import NNTestSupport
import Testing

@Test("on an 80-column terminal every redraw of the progress bar fits in 79 characters, with the time left")
func progressBarFitsTerminal() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let train = [binary.path, "train", "--epochs", "2", "--limit", "400", "--test-limit", "50", "--batch-size", "20",
                 "--threads", "1", "--output", folder.appendingPathComponent("run").path]
    // script(1) gives the command a terminal; stty sets its width; the typescript goes to standard output.
    let r = try runProcess(
        URL(fileURLWithPath: "/usr/bin/script"),
        ["-qec", "stty cols 80 rows 24; exec " + train.joined(separator: " "), "/dev/null"])
    #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
    let redraws = r.stdout.replacingOccurrences(of: "\u{1B}[K", with: "")
        .split(omittingEmptySubsequences: true) { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        .filter { $0.hasPrefix("epoch ") && $0.contains("img/s") }
    #expect(redraws.count >= 4, "\(r.stdout)")
    for line in redraws {
        #expect(line.count <= 79, "\(line.count) characters: \(line)")
    }
    #expect(redraws.contains { $0.contains("left: epoch ") && $0.contains(", run ") }, "\(redraws)")
}
