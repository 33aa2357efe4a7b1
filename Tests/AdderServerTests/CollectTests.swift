// serve --collect: POST /api/collect saves what the network saw (28×28 gray PNG) under its label and the
// drawing as sent in originals/, within the disk budget; GET /api/collect counts; the route is absent
// without a collection; the opening scan counts samples and notes what it ignores.
import AdderServer
import DigitImage
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A fresh, empty folder under the system's temporary folder, removed after `body`.
func withTemporaryFolder<T>(_ body: (URL) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("collect-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

func makeCollectingApp(_ collector: SampleCollector, _ configuration: ServerConfiguration = ServerConfiguration())
    throws -> some ApplicationProtocol
{
    try PredictionServer.makeApplication(
        model: ServedModel(network: network, metadata: metadata), configuration: configuration, collector: collector)
}

func postCollect(_ client: some TestClientProtocol, _ body: ByteBuffer) async throws -> TestResponse {
    try await client.execute(uri: "/api/collect", method: .post, headers: jsonHeaders, body: body)
}

/// The names of the files in `folder` (empty when it does not exist), sorted.
func files(in folder: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
}

/// A 280×280 canvas export as the page sends it: white strokes of a thick "7" on black, opaque.
func canvasSeven() throws -> [UInt8] {
    var gray = [UInt8](repeating: 0, count: 280 * 280)
    for y in 0..<280 {
        for x in 0..<280 {
            let top = (50..<72).contains(y) && (70..<210).contains(x)
            let stem = abs(Double(x) - (210 - Double(y - 50) * 0.45)) < 11 && (50..<240).contains(y)
            if top || stem { gray[y * 280 + x] = 255 }
        }
    }
    return try PNGCodec.encodeGray(gray, width: 280, height: 280)
}

/// The gray values of an 8-bit PNG and its IHDR's bit depth and colour type.
func grayPNG(_ bytes: [UInt8]) throws -> (width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, pixels: [UInt8]) {
    let image = try PNGCodec.decode(bytes, source: "saved sample")
    // IHDR follows the 8-byte signature, the chunk length and type: width, height, bit depth, colour type.
    let gray = stride(from: 0, to: image.pixels.count, by: 4).map { image.pixels[$0] }
    return (image.width, image.height, bytes[24], bytes[25], gray)
}

/// A 40×40 gray JPEG of a white "7" on black (Pillow 11: ImageDraw line of width 4, quality 75), as base64.
let sevenJPEG =
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcp"
    + "LDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAAoACgBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgED"
    + "AwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RF"
    + "RkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJ"
    + "ytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/APn+tix8J+JNTs47yw8P6rd2smdk0FlJIjYJBwwGDggj"
    + "8Ksf8IJ4w/6FTXP/AAXTf/E1HP4L8VWtvLcXHhrWYYIkLySSWEqqigZJJK4AA5zWHRXpHhb41+JPCPhy00OwstKktbXfseeK"
    + "Qudzs5yRIB1Y9q2P+GjvGH/QN0P/AL8Tf/Ha9b0Px7qsPwmufGvim0tIHCNNbW9skke9DhYg27cQXfowyNrKfWvky/vrjU9R"
    + "ub+8k8y6upXmmfaBudiSxwOBkk9Kr0VueDtAbxT4x0rRVWQpdXCrL5bKrLEPmkYFuMhAx79Oh6V6p+0N4hRLzSvB9gsEVjYx"
    + "LcSxQlcI5BWNNoHybUyQM8iQccA14fRRXv8A8EtKs/CPgvWPiFrB2RvE8dvhgCYUPzbcsAWeRQgVgDlBg4avENc1m88Q65e6"
    + "vfvvuruVpXwSQueirkkhQMADPAAFZ9FFdRf/ABC8S6p4Si8MXt/5mmReSI0EaoVSJSFQlQNy8qTuzyinIwc8vRX/2Q=="

@Suite struct CollectTests {
    @Test func savesWhatTheNetworkSawAndTheDrawingAsSent() async throws {
        let png = try canvasSeven()
        let body = json(["image": "data:image/png;base64," + Data(png).base64EncodedString(), "addend": 3, "label": 7])
        let expected = DigitPreprocessor.mnistPixels(from: try PNGCodec.decode(png, source: "canvas"))
        #expect(!expected.isBlank && !expected.isPassThrough)
        try await withTemporaryFolder { folder in
            let collector = try SampleCollector(directory: folder)
            try await makeCollectingApp(collector).test(.router) { client in
                let response = try await postCollect(client, body)
                #expect(response.status == .ok)
                let answer = try JSONDecoder().decode(CollectResponse.self, from: data(response.body))
                #expect(answer.label == 7)
                #expect(answer.file == "7/\(answer.id).png")
                #expect(answer.original == "originals/\(answer.id).png")
                #expect(answer.collection.counts == [0, 0, 0, 0, 0, 0, 0, 1, 0, 0])
                #expect(answer.collection.total == 1)
                #expect(answer.collection.bytesUsed == 2 * SampleCollector.blockSize)
                #expect(answer.collection.bytesLimit == SampleCollector.defaultMaximumBytes)
                #expect(files(in: folder) == ["7", "originals"])
                #expect(files(in: folder.appendingPathComponent("7")) == ["\(answer.id).png"])
                #expect(files(in: folder.appendingPathComponent("originals")) == ["\(answer.id).png"])

                // The sample: a 28×28 8-bit grayscale PNG holding the preprocessed pixels, which /api/predict
                // echoes as what the network saw for the same body.
                let saved = try grayPNG([UInt8](try Data(contentsOf: folder.appendingPathComponent(answer.file))))
                #expect(saved.width == 28 && saved.height == 28 && saved.bitDepth == 8 && saved.colorType == 0)
                #expect(saved.pixels == expected.pixels)
                let prediction = try JSONDecoder().decode(
                    PredictionResponse.self, from: data(try await postPredict(client, body).body))
                #expect(echoedPixels(prediction.input) == saved.pixels)
                // The original: the bytes sent.
                #expect([UInt8](try Data(contentsOf: folder.appendingPathComponent(answer.original))) == png)

                let summary = try await client.execute(uri: "/api/collect", method: .get)
                #expect(summary.status == .ok)
                #expect(try JSONDecoder().decode(CollectionSummary.self, from: data(summary.body)) == answer.collection)
            }
        }
    }

    @Test func pixelsAreSavedAsGivenInBothFiles() async throws {
        try await withTemporaryFolder { folder in
            let collector = try SampleCollector(directory: folder)
            try await makeCollectingApp(collector).test(.router) { client in
                let response = try await postCollect(
                    client, json(["pixels": samplePixels.map(Int.init), "addend": 0, "label": 0]))
                #expect(response.status == .ok)
                let answer = try JSONDecoder().decode(CollectResponse.self, from: data(response.body))
                let sample = [UInt8](try Data(contentsOf: folder.appendingPathComponent(answer.file)))
                #expect(try grayPNG(sample).pixels == samplePixels)
                #expect([UInt8](try Data(contentsOf: folder.appendingPathComponent(answer.original))) == sample)
                #expect(answer.collection.counts[0] == 1)
            }
        }
    }

    @Test func aJPEGOriginalKeepsItsExtension() async throws {
        let jpeg = try #require(Data(base64Encoded: sevenJPEG))
        #expect(FileKind.of(jpeg) == .jpeg)
        try await withTemporaryFolder { folder in
            try await makeCollectingApp(try SampleCollector(directory: folder)).test(.router) { client in
                let response = try await postCollect(
                    client, json(["image": jpeg.base64EncodedString(), "addend": 1, "label": 7]))
                #expect(response.status == .ok)
                let answer = try JSONDecoder().decode(CollectResponse.self, from: data(response.body))
                #expect(answer.original == "originals/\(answer.id).jpg")
                #expect(try Data(contentsOf: folder.appendingPathComponent(answer.original)) == jpeg)
            }
        }
    }

    /// The label as JSON text (nil: no `label` key) and the error it gets.
    @Test(arguments: [
        (nil, "missing 'label', expected the digit drawn, an integer in 0...9"),
        ("null", "missing 'label', expected the digit drawn, an integer in 0...9"),
        (#""7""#, "field 'label' has the wrong type, expected an integer in 0...9"),
        ("true", "field 'label' has the wrong type, expected an integer in 0...9"),
        ("[7]", "field 'label' has the wrong type, expected an integer in 0...9"),
        ("10", "label 10 is out of range, expected an integer in 0...9"),
        ("-1", "label -1 is out of range, expected an integer in 0...9"),
        ("7.5", "label 7.5 is out of range, expected an integer in 0...9"),
        ("1e300", "label 1e+300 is out of range, expected an integer in 0...9"),
    ] as [(String?, String)])
    func badLabelIsA400AndSavesNothing(label: String?, message: String) async throws {
        let pixels = samplePixels.map(String.init).joined(separator: ",")
        let body = #"{"pixels": ["# + pixels + #"], "addend": 1"# + (label.map { #", "label": "# + $0 } ?? "") + "}"
        try await withTemporaryFolder { folder in
            try await makeCollectingApp(try SampleCollector(directory: folder)).test(.router) { client in
                let response = try await postCollect(client, ByteBuffer(string: body))
                #expect(response.status == .badRequest)
                #expect(try errorMessage(response) == message)
                #expect(!String(decoding: data(response.body), as: UTF8.self).contains("\n"))
            }
            #expect(files(in: folder).isEmpty)
        }
    }

    @Test func theBodyGetsPredictsChecksAndLimits() async throws {
        try await withTemporaryFolder { folder in
            let configuration = ServerConfiguration(maximumBodyBytes: 4000)
            try await makeCollectingApp(try SampleCollector(directory: folder), configuration).test(.router) { client in
                let cases: [(ByteBuffer, HTTPFields, HTTPResponse.Status)] = [
                    (json(["pixels": samplePixels.map(Int.init), "label": 1]), jsonHeaders, .badRequest),  // no addend
                    (json(["pixels": [Int](repeating: 0, count: 784), "addend": 1, "label": 1]), jsonHeaders, .unprocessableContent),
                    (ByteBuffer(string: #"{"label": 1, "label": 2}"#), jsonHeaders, .badRequest),
                    (json(["pixels": samplePixels.map(Int.init), "addend": 1, "label": 1]), [.contentType: "text/plain"], .unsupportedMediaType),
                    (json(["image": String(repeating: "A", count: 5000), "addend": 1, "label": 1]), jsonHeaders, .contentTooLarge),
                ]
                for (body, headers, status) in cases {
                    let collected = try await client.execute(uri: "/api/collect", method: .post, headers: headers, body: body)
                    let predicted = try await postPredict(client, body, headers: headers)
                    #expect(collected.status == status)
                    #expect(try errorMessage(collected) == (try errorMessage(predicted)))
                }
            }
            #expect(files(in: folder).isEmpty)
        }
    }

    @Test func aFullCollectionAnswers507AndKeepsWhatItHas() async throws {
        try await withTemporaryFolder { folder in
            // Room for two samples of two blocks each, not three.
            let limit = 5 * SampleCollector.blockSize
            let body = json(["pixels": samplePixels.map(Int.init), "addend": 1, "label": 4])
            try await makeCollectingApp(try SampleCollector(directory: folder, maximumBytes: limit)).test(.router) { client in
                #expect(try await postCollect(client, body).status == .ok)
                #expect(try await postCollect(client, body).status == .ok)
                let refused = try await postCollect(client, body)
                #expect(refused.status == CollectError.insufficientStorage)
                #expect(
                    try errorMessage(refused)
                        == "the collection is full: 2 samples take 16384 of its 20480 bytes, expected room for 8192 more; "
                        + "move samples out or restart serve with a larger --collect-limit")
            }
            #expect(files(in: folder.appendingPathComponent("4")).count == 2)
            #expect(files(in: folder.appendingPathComponent("originals")).count == 2)
            // Opened again, the collection counts what is on disk and is still full.
            let reopened = try SampleCollector(directory: folder, maximumBytes: limit)
            let summary = await reopened.summary()
            #expect(summary.counts[4] == 2 && summary.total == 2 && summary.bytesUsed == 4 * SampleCollector.blockSize)
            #expect(reopened.notes.isEmpty)
            await #expect(throws: CollectError.self) { try await reopened.save(body: data(body), configuration: ServerConfiguration()) }
        }
    }

    @Test func concurrentSavesGetDistinctIds() async throws {
        try await withTemporaryFolder { folder in
            let collector = try SampleCollector(directory: folder)
            let answers = try await makeCollectingApp(collector, ServerConfiguration(engineCount: 2)).test(.router) { client in
                try await withThrowingTaskGroup(of: CollectResponse.self) { group in
                    for i in 0..<16 {
                        group.addTask {
                            let response = try await postCollect(
                                client, json(["pixels": samplePixels.map(Int.init), "addend": 1, "label": i % 3]))
                            #expect(response.status == .ok)
                            return try JSONDecoder().decode(CollectResponse.self, from: data(response.body))
                        }
                    }
                    var all: [CollectResponse] = []
                    for try await answer in group { all.append(answer) }
                    return all
                }
            }
            #expect(Set(answers.map(\.id)).count == 16)
            #expect(Set(answers.map(\.collection.total)) == Set(1...16))
            let summary = await collector.summary()
            #expect(summary.counts == [6, 5, 5, 0, 0, 0, 0, 0, 0, 0])
            for label in 0..<3 {
                let names = files(in: folder.appendingPathComponent("\(label)"))
                #expect(names.count == summary.counts[label])
                #expect(names.allSatisfy { !$0.hasPrefix(".") && $0.hasSuffix(".png") })
            }
            #expect(files(in: folder.appendingPathComponent("originals")).count == 16)
        }
    }

    @Test func theRouteIsAbsentWithoutACollection() async throws {
        try await makeApp().test(.router) { client in
            let posted = try await postCollect(client, json(["pixels": samplePixels.map(Int.init), "addend": 1, "label": 1]))
            #expect(posted.status == .notFound)
            #expect(try errorMessage(posted).hasPrefix("no such path /api/collect, expected one of"))
            #expect(try await client.execute(uri: "/api/collect", method: .get).status == .notFound)
            let page = String(decoding: data(try await client.execute(uri: "/", method: .get).body), as: UTF8.self)
            #expect(page.contains("const COLLECT = false;"))
        }
        try await withTemporaryFolder { folder in
            try await makeCollectingApp(try SampleCollector(directory: folder)).test(.router) { client in
                let put = try await client.execute(uri: "/api/collect", method: .put)
                #expect(put.status == .methodNotAllowed)
                #expect(put.headers[.allow] == "GET, HEAD, POST")
                let page = String(decoding: data(try await client.execute(uri: "/", method: .get).body), as: UTF8.self)
                #expect(page.contains("const COLLECT = true;"))
                #expect(page.contains("\"/api/collect\""))
            }
        }
    }

    @Test func openingCountsSamplesAndNotesTheRest() async throws {
        try await withTemporaryFolder { folder in
            let sample = try PNGCodec.encodeGray(samplePixels, width: 28, height: 28)
            let fileManager = FileManager.default
            for name in ["3", "7", "foo", "originals", "7/nested"] {
                try fileManager.createDirectory(at: folder.appendingPathComponent(name), withIntermediateDirectories: true)
            }
            for name in ["3/a.png", "7/b.png", "7/c.PNG", "originals/a.png", "originals/b.jpg"] {
                try Data(sample).write(to: folder.appendingPathComponent(name))
            }
            for name in ["3/readme.txt", "notes.txt", "7/.d.png.tmp", "12"] {
                try Data("x".utf8).write(to: folder.appendingPathComponent(name))
            }
            let collector = try SampleCollector(directory: folder, maximumBytes: 1_000_000)
            let summary = await collector.summary()
            #expect(summary.counts == [0, 0, 0, 1, 0, 0, 0, 2, 0, 0])
            #expect(summary.bytesUsed == 5 * SampleCollector.blockSize)
            let path = folder.path
            #expect(
                collector.notes == [
                    "\(path)/12: not a class folder 0-9 or originals, ignored",
                    "\(path)/3/readme.txt: not a PNG sample, ignored",
                    "\(path)/7/.d.png.tmp: left by an interrupted save, ignored",
                    "\(path)/7/nested: not a PNG sample, ignored",
                    "\(path)/foo: not a class folder 0-9 or originals, ignored",
                    "\(path)/notes.txt: not a class folder 0-9 or originals, ignored",
                ])
        }
    }

    @Test func aClassFolderThatIsALinkIsCountedAsEvaluateReadsIt() async throws {
        try await withTemporaryFolder { folder in
            try await withTemporaryFolder { elsewhere in
                let sample = try PNGCodec.encodeGray(samplePixels, width: 28, height: 28)
                let nines = elsewhere.appendingPathComponent("nines")
                try FileManager.default.createDirectory(at: nines, withIntermediateDirectories: true)
                for name in ["a.png", "b.png"] { try Data(sample).write(to: nines.appendingPathComponent(name)) }
                try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("9"), withDestinationURL: nines)
                let collector = try SampleCollector(directory: folder, maximumBytes: 1_000_000)
                let summary = await collector.summary()
                #expect(summary.counts == [0, 0, 0, 0, 0, 0, 0, 0, 0, 2])
                #expect(summary.bytesUsed == 2 * SampleCollector.blockSize)
                #expect(collector.notes.isEmpty, "\(collector.notes)")
            }
        }
    }

    @Test func unusableFoldersAreRefused() async throws {
        try await withTemporaryFolder { folder in
            let file = folder.appendingPathComponent("file")
            try Data("x".utf8).write(to: file)
            #expect(throws: CollectionFolderError.notAFolder(path: file.path)) { try SampleCollector(directory: file) }
            #expect(throws: CollectionFolderError.budgetTooSmall(bytes: 100, minimum: 8192)) {
                try SampleCollector(directory: folder, maximumBytes: 100)
            }
            // A missing folder is created, with its parents.
            let nested = folder.appendingPathComponent("a/b")
            _ = try SampleCollector(directory: nested)
            #expect(files(in: folder.appendingPathComponent("a")) == ["b"])
        }
    }
}
