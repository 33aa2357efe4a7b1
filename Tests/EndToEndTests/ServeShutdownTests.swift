// `mnist-adder serve` stopped by a real SIGTERM while a client holds a request open.
import AdderNet
import Foundation
import NNTestSupport
import Testing

/// Starts `mnist-adder serve` on 127.0.0.1 and a free port with a random network and `arguments`;
/// returns the process and the port it printed. The caller stops the process.
func startServe(_ arguments: [String], folder: URL) throws -> (Process, Int) {
    try Checkpoint.save(AdderNetwork(seed: 2), to: folder.appendingPathComponent(RunFolder.modelFile))
    let process = Process()
    process.executableURL = binary
    process.arguments = ["serve", "--checkpoint", folder.path, "--host", "127.0.0.1", "--port", "0"] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    var text = ""
    let deadline = Date().addingTimeInterval(60)
    while !text.contains("\n") && Date() < deadline && process.isRunning {
        text += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
    }
    guard let line = text.split(separator: "\n").first,
        let port = Int(line.split(separator: ":").last?.split(separator: "/").first ?? "")
    else {
        process.terminate()
        throw RawClientError("serve printed no port: '\(text)'")
    }
    return (process, port)
}

@Test("SIGTERM with a client 10 bytes into a 1000-byte body: 503 at --shutdown-timeout, then exit 0")
func sigtermWithASlowClientConnected() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (server, port) = try startServe(["--shutdown-timeout", "1"], folder: folder)
    defer {
        if server.isRunning { kill(server.processIdentifier, SIGKILL) }
        server.waitUntilExit()
    }
    // The answer to the GET tells that the server read the POST's head behind it.
    let slow = try RawClient(port: port)
    try slow.send(getRequest("/healthz") + "POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"pixels\":")
    #expect(try slow.readResponse().status == 200)
    let idle = try RawClient(port: port)
    try idle.send(getRequest("/healthz"))
    #expect(try idle.readResponse().status == 200)

    let signalled = Date()
    kill(server.processIdentifier, SIGTERM)
    #expect(try idle.isClosed(within: 5), "an idle connection stayed open after SIGTERM")
    let answer = try slow.readResponse(timeout: 15)
    #expect(answer.status == 503)
    #expect(answer.errorMessage?.hasPrefix("the server is shutting down") == true, "\(answer.errorMessage ?? "")")
    while server.isRunning && Date().timeIntervalSince(signalled) < 20 { usleep(20_000) }
    #expect(!server.isRunning, "the server was still running 20 s after SIGTERM")
    #expect(Date().timeIntervalSince(signalled) >= 0.9)
    if !server.isRunning {
        #expect(server.terminationReason == .exit && server.terminationStatus == 0)
    }
}
