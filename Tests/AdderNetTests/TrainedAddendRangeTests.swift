// The addend range a checkpoint records, read back from its metadata (and from older checkpoints' options).
import AdderNet
import Foundation
import Testing

@Suite struct TrainedAddendRangeTests {
    @Test("the addendRange key first, then the options' range, then the seed's 0...9", arguments: [
        ([Checkpoint.addendRangeKey: "[3,12]", "options": #"{"addendRange":[0,99]}"#], 3...12),
        (["options": #"{"addendRange":[0,99],"epochs":10}"#], 0...99),
        (["options": #"{"epochs":10}"#], 0...9),
        ([:], 0...9),
    ] as [([String: String], ClosedRange<Int>)])
    func readsTheRange(metadata: [String: String], expected: ClosedRange<Int>) throws {
        #expect(try Checkpoint.addendRange(metadata: metadata) == expected)
    }

    @Test("a range that is not [LO, HI] within 0...1000000 is a one-line error", arguments: [
        ("[5,2]", "[5, 2]"), ("[-1,4]", "[-1, 4]"), ("[0,1000001]", "[0, 1000001]"), ("[1]", "[1]"), ("0...9", "0...9"),
    ])
    func refusesABadRange(text: String, shown: String) {
        #expect(throws: CheckpointError.badAddendRange(found: shown)) {
            try Checkpoint.addendRange(metadata: [Checkpoint.addendRangeKey: text])
        }
        #expect(CheckpointError.badAddendRange(found: shown).description
            == "checkpoint metadata addendRange is \(shown), expected [LO, HI] with 0 ≤ LO ≤ HI ≤ 1000000")
    }

    @Test("the text written round-trips, and a checkpoint saved with it reads it back")
    func roundTrip() throws {
        #expect(Checkpoint.addendRangeText(2...40) == "[2,40]")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("range-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(AdderNetwork(seed: 1), metadata: [Checkpoint.addendRangeKey: Checkpoint.addendRangeText(2...40)], to: url)
        let (_, metadata) = try Checkpoint.load(contentsOf: url)
        #expect(try Checkpoint.addendRange(metadata: metadata) == 2...40)
    }

    @Test("a torch.save file (zip or pickle) is refused with the conversion, before the safetensors reader")
    func pyTorchFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString).pt")
        defer { try? FileManager.default.removeItem(at: url) }
        for (bytes, kind) in [([0x50, 0x4B, 0x03, 0x04, 0x00] as [UInt8], "a zip archive"), ([0x80, 0x02, 0x63], "a pickle")] {
            try Data(bytes).write(to: url)
            #expect(throws: CheckpointError.pyTorchFormat(kind: kind)) { try Checkpoint.load(contentsOf: url) }
        }
    }

    @Test("a file that is not safetensors (no '{' after the length) is named by what it starts like", arguments: [
        ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00] as [UInt8], "a PNG image"),
        (Array("weights for my model\n".utf8), "text starting \"weights for \""),
        ([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09], "bytes 01 02 03 04 05 06 07 08 09"),
    ])
    func notSafetensors(bytes: [UInt8], found: String) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(bytes).write(to: url)
        #expect(throws: CheckpointError.notSafetensors(found: found)) { try Checkpoint.load(contentsOf: url) }
        // A real checkpoint passes the check.
        try Checkpoint.save(AdderNetwork(seed: 1), metadata: [:], to: url)
        #expect(throws: Never.self) { try Checkpoint.load(contentsOf: url) }
    }
}
