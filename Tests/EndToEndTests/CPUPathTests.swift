// The code paths of other CPU kinds, run on this one as whole programs: libxsmm's AVX2 (`hsw`) code
// and the AVX2 transforms on an AVX-512 machine, and the Swift transforms and OpenBLAS alone, against
// what the machine picks by itself. The choices are made once per process (libxsmm's target, the
// transforms' width), hence processes.
import Foundation
import NNCore
import NNTestSupport
import Testing

/// `mnist-adder` run with `environment` added to this process's.
private func runCLI(_ arguments: [String], environment: [String: String]) throws -> ProcessOutput {
    let assignments = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    return try runProcess(URL(fileURLWithPath: "/usr/bin/env"), assignments + [binary.path] + arguments)
}

/// The environments to compare: the machine's own choice first, then the narrower code it can also run.
private var paths: [(name: String, environment: [String: String])] {
    var paths: [(String, [String: String])] = [("auto", [:])]
    if WinogradKernels.supports(width: 8) {
        paths.append(("AVX2 code", ["LIBXSMM_TARGET": "hsw", "MNIST_ADDER_TRANSFORMS": "avx2"]))
    }
    paths.append(("Swift transforms, OpenBLAS only", ["MNIST_ADDER_TRANSFORMS": "swift", "MNIST_ADDER_GEMM": "openblas"]))
    return paths
}

@Test("evaluate: the same confusion matrix of the shipped model on all 10,000 test images with each transform width the CPU runs")
func transformWidthsEvaluateAlike() throws {
    var first: String?
    for width in WinogradKernels.supportedWidths {
        let name = ["4": "swift", "8": "avx2", "16": "avx512"][String(width)]!
        let r = try runCLI(["evaluate", "--json"], environment: [WinogradKernels.environmentVariable: name])
        #expect(r.status == 0, "\(name): \(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let confusion = try #require(json?["confusion"] as? [[Int]], "\(name): \(r.stdout.prefix(200))")
        #expect(confusion.joined().reduce(0, +) == 10_000)
        let text = "\(confusion)"
        if let first { #expect(text == first, "\(name) against \(WinogradKernels.supportedWidths[0])") } else { first = text }
    }
}

@Test("predict: the probabilities of three test images agree to rounding across libxsmm's AVX2 code, the AVX2 transforms and OpenBLAS with the Swift transforms")
func cpuPathsPredictAlike() throws {
    var reference: [[Double]]?
    for (name, environment) in paths {
        var probabilities: [[Double]] = []
        for index in [0, 3, 11] {
            let r = try runCLI(["predict", "--test-index", String(index), "--json"], environment: environment)
            #expect(r.status == 0, "\(name): \(r.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
            probabilities.append(try #require(json?.first?["probabilities"] as? [Double], "\(name): \(r.stdout.prefix(200))"))
        }
        if let reference {
            for (a, b) in zip(reference, probabilities) {
                #expect(a.count == 10 && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(name): \(b) against \(a)")
            }
        } else {
            reference = probabilities
        }
    }
}
