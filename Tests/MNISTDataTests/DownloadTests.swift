// The download's failure path, without the internet: a mirror on a closed loopback port refuses
// at once, and the error must be typed, name the file, and fit on one line.
import Foundation
import MNISTData
import Testing

@Test func downloadWithoutAReachableMirrorFailsWithATypedError() async throws {
    let folder = try temporaryDirectory("download")
    defer { try? FileManager.default.removeItem(at: folder) }
    let mirrors = [URL(string: "http://127.0.0.1:9/mnist/"), URL(string: "http://[::1]:9/mnist/")].compactMap { $0 }
    await #expect {
        try await MNISTDownload.download(to: folder, mirrors: mirrors, timeout: 2)
    } throws: { error in
        guard case MNISTError.downloadFailed(let file, let reasons) = error else { return false }
        let message = "\(error)"
        return file == "train-images-idx3-ubyte.gz" && reasons.count == 2
            && message.contains("127.0.0.1") && !message.contains("\n")
    }
    // Nothing was written under a standard name.
    let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    #expect(left.isEmpty, "\(left)")
    #expect(MNISTDownload.fileNames == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    ])
}
