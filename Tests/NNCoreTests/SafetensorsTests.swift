// Safetensors reading and writing: the PyTorch fixture, round trips, interop with the Python
// library, and every kind of malformed file built byte by byte.
import Foundation
import NNCore
import NNTestSupport
import Testing

/// A safetensors file from a header string and data bytes (header length computed).
private func safetensorsBytes(header: String, data: [UInt8] = []) -> [UInt8] {
    let json = Array(header.utf8)
    return lengthPrefix(UInt64(json.count)) + json + data
}

private func lengthPrefix(_ length: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) }
}

/// Parses `bytes` and returns the error thrown (nil if it parsed).
private func parseError(_ bytes: [UInt8], source: String = "test.safetensors") -> SafetensorsError? {
    do {
        _ = try SafetensorsFile(bytes: bytes, source: source)
        return nil
    } catch let error as SafetensorsError {
        return error
    } catch {
        return .unreadable(file: "unexpected error type", reason: "\(error)")
    }
}

private let parameterShapes: [String: [Int]] = [
    "input1.weight": [16, 1, 3, 3], "input1.bias": [16],
    "conv1.weight": [32, 16, 3, 3], "conv1.bias": [32],
    "conv2.weight": [64, 32, 3, 3], "conv2.bias": [64],
    "oneconv1.weight": [16, 64, 1, 1], "oneconv1.bias": [16],
    "conv3.weight": [32, 16, 3, 3], "conv3.bias": [32],
    "conv4.weight": [64, 32, 3, 3], "conv4.bias": [64],
    "conv5.weight": [64, 64, 3, 3], "conv5.bias": [64],
    "conv6.weight": [10, 64, 5, 5], "conv6.bias": [10],
    "input2.weight": [5, 2], "input2.bias": [5],
    "layer1.weight": [5, 5], "layer1.bias": [5],
    "out2.weight": [1, 5], "out2.bias": [1],
]

@Suite("Safetensors")
struct SafetensorsTests {
    @Test("reads every key of the PyTorch parity fixture with the documented shapes")
    func readsParityFixture() throws {
        let file = try SafetensorsFile(contentsOf: Fixtures.paritySeed0)
        var expected: [String: [Int]] = [
            "x.images": [8, 1, 28, 28], "y.logits": [8, 10], "y.sum": [8],
            "y.loss_ce": [], "y.loss_mse": [], "y.loss": [],
            "act.input1": [8, 16, 26, 26], "act.conv1": [8, 32, 24, 24], "act.conv2": [8, 64, 22, 22],
            "act.pool": [8, 64, 11, 11], "act.oneconv1": [8, 16, 11, 11], "act.conv3": [8, 32, 9, 9],
            "act.conv4": [8, 64, 7, 7], "act.conv5": [8, 64, 5, 5], "act.conv6": [8, 10, 1, 1],
        ]
        for (name, shape) in parameterShapes {
            for prefix in ["param.", "grad.", "adam1.", "sgd1."] { expected[prefix + name] = shape }
        }
        #expect(file.names.count == expected.count + 2)
        for (name, shape) in expected {
            let tensor = try file.float32(name, shape: shape)
            #expect(tensor.shape == shape, "\(name)")
            let finite = tensor.scalars.allSatisfy { $0.isFinite }
            #expect(finite, "\(name) has non-finite values")
        }
        #expect(try file.int64("x.addends", shape: [8]) == [4, 7, 4, 7, 1, 0, 5, 7])
        #expect(try file.int64("x.labels", shape: [8]) == [7, 2, 1, 0, 4, 1, 4, 9])
        #expect(file.metadata["generator"] == "PyTorch 2.13.0+cpu")
        #expect(file.metadata["normalization"] == "(x/255-0.1307)/0.3081")

        // Values decode as PyTorch wrote them: a background pixel, and the loss is the sum of its parts.
        let images = try file.float32("x.images")
        #expect(abs(images.scalars[0] - Float((0.0 / 255 - 0.1307) / 0.3081)) <= 1e-6)
        let loss = try file.float32("y.loss").scalars[0]
        let parts = try file.float32("y.loss_ce").scalars[0] + file.float32("y.loss_mse").scalars[0]
        #expect(abs(loss - parts) <= 1e-5 * abs(loss))
        let logits = try file.float32("y.logits")
        let conv6 = try file.float32("act.conv6")
        #expect(logits.scalars == conv6.scalars)
    }

    @Test("write then read returns the same tensors, int64 values and metadata")
    func roundTrip() throws {
        let tensors: [String: Tensor] = [
            "b.weight": Tensor(shape: [2, 3], scalars: [1, -2, 3.5, .pi, -0.0, 1e-38]),
            "a.scalar": Tensor(shape: [], scalars: [42]),
            "c.empty": Tensor(shape: [0, 4], scalars: []),
            "ünïcode \"quoted\"\n": Tensor(shape: [1], scalars: [.infinity]),
        ]
        let int64: [String: [Int64]] = ["steps": [0, -1, .max, .min, 7], "none": []]
        let metadata = ["format": "pt", "note": "tab\tquote\"backslash\\ é", "empty": ""]
        let bytes = try Safetensors.encode(tensors, int64: int64, metadata: metadata)

        let headerLength = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        #expect(headerLength % 8 == 0)
        #expect(bytes[8 + Int(headerLength) - 1] == UInt8(ascii: "}") || bytes[8 + Int(headerLength) - 1] == 0x20)

        let file = try SafetensorsFile(bytes: bytes, source: "round-trip")
        #expect(file.metadata == metadata)
        #expect(Set(file.names) == Set(tensors.keys).union(int64.keys))
        for (name, tensor) in tensors {
            let read = try file.float32(name)
            #expect(read.shape == tensor.shape)
            #expect(read.scalars.map(\.bitPattern) == tensor.scalars.map(\.bitPattern), "\(name)")
        }
        for (name, values) in int64 { #expect(try file.int64(name, shape: [values.count]) == values) }

        // Stable layout: data placed in name order, and the same input gives the same bytes.
        let nonEmpty = file.entries.filter { !$0.value.byteRange.isEmpty }
        let byOffset = nonEmpty.sorted { $0.value.byteRange.lowerBound < $1.value.byteRange.lowerBound }.map(\.key)
        let byName = nonEmpty.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        #expect(byOffset == byName)
        #expect(try Safetensors.encode(tensors, int64: int64, metadata: metadata) == bytes)
        #expect(try file.float32Tensors(withPrefix: "b.").keys.sorted() == ["weight"])
    }

    @Test("write replaces the file atomically and leaves no temporary file")
    func atomicWrite() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("checkpoint.safetensors")
        try Safetensors.write(["w": Tensor(shape: [2], scalars: [1, 2])], to: url)
        try Safetensors.write(["w": Tensor(shape: [3], scalars: [4, 5, 6])], metadata: ["epoch": "2"], to: url)
        let file = try SafetensorsFile(contentsOf: url)
        #expect(try file.float32("w").scalars == [4, 5, 6])
        #expect(file.metadata == ["epoch": "2"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["checkpoint.safetensors"])

        let missingFolder = folder.appendingPathComponent("no-such-folder/x.safetensors")
        #expect(throws: SafetensorsError.self) { try Safetensors.write([:], to: missingFolder) }
        // A failed write leaves the previous file as it was.
        #expect(throws: SafetensorsError.self) { try Safetensors.write(["__metadata__": Tensor(shape: [], scalars: [0])], to: url) }
        #expect(try SafetensorsFile(contentsOf: url).float32("w").scalars == [4, 5, 6])
    }

    @Test("names that cannot be written are typed errors")
    func invalidNames() {
        #expect(throws: SafetensorsError.invalidName(name: "x", reason: "given both as Float32 and as Int64")) {
            try Safetensors.encode(["x": Tensor(shape: [], scalars: [1])], int64: ["x": [1]])
        }
        #expect(throws: SafetensorsError.invalidName(name: "__metadata__", reason: "reserved for the header's metadata")) {
            try Safetensors.encode([:], int64: ["__metadata__": [1]])
        }
    }

    @Test(
        "a file we write loads in Python's safetensors.torch.load_file",
        .enabled(if: pythonHasSafetensors, "SKIPPED: python3 with safetensors.torch is not installed"))
    func loadsInPython() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("st-py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("ours.safetensors")
        try Safetensors.write(
            ["conv.weight": Tensor(shape: [2, 1, 2], scalars: [0.5, -1.25, 3, 1e-7]), "loss": Tensor(shape: [], scalars: [2.5])],
            int64: ["labels": [3, -9, 1 << 40]], metadata: ["format": "pt", "who": "mnist-adder"], to: url)
        let script = """
            import json, sys
            from safetensors import safe_open
            from safetensors.torch import load_file
            d = load_file(sys.argv[1])
            meta = safe_open(sys.argv[1], "pt").metadata()
            print(json.dumps({"meta": meta, "tensors": {k: [str(v.dtype), list(v.shape), v.flatten().tolist()] for k, v in d.items()}}))
            """
        let output = try Python.run(["-c", script, url.path])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(json["meta"] as? [String: String] == ["format": "pt", "who": "mnist-adder"])
        let tensors = try #require(json["tensors"] as? [String: [Any]])
        #expect(tensors.count == 3)
        #expect(tensors["conv.weight"]?[0] as? String == "torch.float32")
        #expect(tensors["conv.weight"]?[1] as? [Int] == [2, 1, 2])
        #expect((tensors["conv.weight"]?[2] as? [Double])?.map { Float($0) } == [0.5, -1.25, 3, 1e-7])
        #expect(tensors["loss"]?[1] as? [Int] == [])
        #expect(tensors["labels"]?[0] as? String == "torch.int64")
        #expect(tensors["labels"]?[2] as? [Int] == [3, -9, 1 << 40])
    }

    // MARK: Malformed files

    @Test("too short, header beyond the file, not JSON, not an object")
    func malformedFraming() {
        let s = "test.safetensors"
        #expect(parseError([]) == .fileTooShort(file: s, byteCount: 0))
        #expect(parseError([1, 0, 0]) == .fileTooShort(file: s, byteCount: 3))
        #expect(parseError(lengthPrefix(100) + Array("{}".utf8)) == .headerBeyondFile(file: s, headerLength: 100, bytesAfterLength: 2))
        #expect(parseError(lengthPrefix(.max)) == .headerBeyondFile(file: s, headerLength: .max, bytesAfterLength: 0))
        #expect(parseError(lengthPrefix(0)) == .headerNotJSON(file: s, reason: "header is empty"))
        #expect(parseError(safetensorsBytes(header: "{\"a\": [1, 2")).map { if case .headerNotJSON = $0 { true } else { false } } == true)
        #expect(parseError(safetensorsBytes(header: "hello")).map { if case .headerNotJSON = $0 { true } else { false } } == true)
        // The reason is the parser's own words ("Invalid value around character 0." on Linux), not an NSError dump.
        if case .headerNotJSON(_, let reason) = parseError(safetensorsBytes(header: "hello")) {
            #expect(reason.contains("character") && !reason.contains("Domain="), "\(reason)")
        } else {
            Issue.record("'hello' is not reported as a header that is not JSON")
        }
        #expect(parseError(lengthPrefix(2) + [0x7B, 0xFF]) == .headerNotJSON(file: s, reason: "header is not valid UTF-8"))
        #expect(parseError(safetensorsBytes(header: "[1, 2]")) == .headerNotObject(file: s, found: "array"))
        // The smallest valid file: no tensors, no data.
        #expect(parseError(safetensorsBytes(header: "{}        ")) == nil)
    }

    @Test("offsets that do not match shape × dtype, reversed, beyond the buffer, overlapping, gaps")
    func malformedOffsets() {
        let s = "test.safetensors"
        func one(_ entry: String, data: Int) -> SafetensorsError? {
            parseError(safetensorsBytes(header: "{\"t\":\(entry)}", data: [UInt8](repeating: 0, count: data)))
        }
        #expect(one(#"{"dtype":"F32","shape":[2],"data_offsets":[0,4]}"#, data: 4)
            == .byteCountMismatch(file: s, name: "t", shape: [2], dtype: "F32", expected: 8, found: 4))
        #expect(one(#"{"dtype":"F32","shape":[],"data_offsets":[8,0]}"#, data: 8) == .reversedRange(file: s, name: "t", begin: 8, end: 0))
        #expect(one(#"{"dtype":"F32","shape":[4],"data_offsets":[0,16]}"#, data: 8) == .rangeBeyondBuffer(file: s, name: "t", end: 16, bufferSize: 8))
        #expect(one(#"{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, data: 12) == .uncoveredBytes(file: s, range: 8..<12, bufferSize: 12))
        #expect(one(#"{"dtype":"F32","shape":[1],"data_offsets":[4,8]}"#, data: 8) == .uncoveredBytes(file: s, range: 0..<4, bufferSize: 8))
        let big = 1 << 62
        if case .invalidEntry(_, "t", _)? = one("{\"dtype\":\"F64\",\"shape\":[\(big),\(big)],\"data_offsets\":[0,8]}", data: 8) {
        } else {
            Issue.record("a shape whose size overflows must be an invalidEntry")
        }

        let overlap = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        #expect(parseError(safetensorsBytes(header: overlap, data: [UInt8](repeating: 0, count: 12))) == .overlappingRanges(file: s, first: "a", second: "b"))
        let gap = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}"#
        #expect(parseError(safetensorsBytes(header: gap, data: [UInt8](repeating: 0, count: 16))) == .uncoveredBytes(file: s, range: 4..<8, bufferSize: 16))
    }

    @Test("duplicate names, unknown dtypes, bad entries and bad metadata")
    func malformedEntries() {
        let s = "test.safetensors"
        let entry = #"{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#
        #expect(parseError(safetensorsBytes(header: "{\"a\":\(entry),\"a\":\(entry)}", data: [0, 0, 0, 0])) == .duplicateName(file: s, name: "a"))
        #expect(parseError(safetensorsBytes(header: "{\"a\":\(entry), \"\\u0061\" :\(entry)}", data: [0, 0, 0, 0])) == .duplicateName(file: s, name: "a"))
        #expect(parseError(safetensorsBytes(header: #"{"t":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]))
            == .unknownDType(file: s, name: "t", dtype: "F17"))
        for bad in [
            #"{"dtype":"F32","shape":[1]}"#, #"{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}"#,
            #"{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}"#, #"{"dtype":"F32","shape":[true],"data_offsets":[0,4]}"#,
            #"{"dtype":"F32","shape":"1","data_offsets":[0,4]}"#, #"{"dtype":"F32","shape":[1],"data_offsets":[0]}"#,
            #"{"dtype":7,"shape":[1],"data_offsets":[0,4]}"#, #"[1]"#,
        ] {
            let error = parseError(safetensorsBytes(header: "{\"t\":\(bad)}", data: [0, 0, 0, 0]))
            if case .invalidEntry(s, "t", _)? = error {} else { Issue.record("\(bad): expected invalidEntry, got \(String(describing: error))") }
        }
        #expect(parseError(safetensorsBytes(header: #"{"__metadata__":{"a":1}}"#)) == .invalidMetadata(file: s, reason: "value of \"a\" is not a string"))
        #expect(parseError(safetensorsBytes(header: #"{"__metadata__":[]}"#)) == .invalidMetadata(file: s, reason: "is not an object"))
    }

    @Test("wrong dtype, missing key and wrong shape on request; errors name the file")
    func requestErrors() throws {
        let bytes = try Safetensors.encode(["w": Tensor(shape: [2, 2], repeating: 1)], int64: ["n": [1, 2]])
        let file = try SafetensorsFile(bytes: bytes, source: "model.safetensors")
        #expect(throws: SafetensorsError.wrongDType(file: "model.safetensors", name: "n", expected: "F32", found: "I64")) {
            try file.float32("n")
        }
        #expect(throws: SafetensorsError.wrongDType(file: "model.safetensors", name: "w", expected: "I64", found: "F32")) {
            try file.int64("w")
        }
        #expect(throws: SafetensorsError.missingKey(file: "model.safetensors", name: "conv1.weight")) { try file.float32("conv1.weight") }
        #expect(throws: SafetensorsError.shapeMismatch(file: "model.safetensors", name: "w", expected: [4], found: [2, 2])) {
            try file.float32("w", shape: [4])
        }
        let message = SafetensorsError.shapeMismatch(file: "model.safetensors", name: "w", expected: [4], found: [2, 2]).description
        #expect(message == "model.safetensors: tensor \"w\": shape [2, 2], expected [4]")
        let missing = URL(fileURLWithPath: "/nonexistent/\(UUID().uuidString).safetensors")
        do {
            _ = try SafetensorsFile(contentsOf: missing)
            Issue.record("reading a missing file must throw")
        } catch let error as SafetensorsError {
            if case .unreadable(missing.path, _) = error {} else { Issue.record("expected unreadable, got \(error)") }
            #expect(error.description.hasPrefix(missing.path))
        }
    }

    @Test("every truncation and many single-byte corruptions throw or parse, never crash")
    func truncationAndCorruption() throws {
        let bytes = try Safetensors.encode(
            ["a": Tensor(shape: [3], scalars: [1, 2, 3]), "b": Tensor(shape: [], scalars: [4])], int64: ["c": [5, 6]],
            metadata: ["k": "v"])
        for length in 0..<bytes.count {
            #expect(parseError(Array(bytes[0..<length])) != nil, "prefix of \(length) bytes must be rejected")
        }
        var generator = SplitMix64(seed: 7)
        for _ in 0..<500 {
            var corrupted = bytes
            let index = Int(generator.next() % UInt64(bytes.count))
            corrupted[index] = UInt8(truncatingIfNeeded: generator.next())
            if let file = try? SafetensorsFile(bytes: corrupted, source: "corrupt") {
                for name in file.names {
                    _ = try? file.float32(name)
                    _ = try? file.int64(name)
                }
            }
        }
    }
}

/// Whether the cross-check with Python's safetensors can run on this machine.
private let pythonHasSafetensors = Python.shouldRun(needing: "safetensors.torch")
