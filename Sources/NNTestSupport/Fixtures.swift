// Where the test fixtures live in a checkout: Tests/Fixtures, found from this file's own path,
// so tests run from a fresh clone with no resource bundle and no download.
import Foundation

/// Paths of the files under `Tests/Fixtures` in this checkout.
public enum Fixtures {
    /// The folder `Tests/Fixtures` of the checkout this file was compiled from.
    public static var directory: URL {
        URL(fileURLWithPath: #filePath)  // .../Sources/NNTestSupport/Fixtures.swift
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/Fixtures")
    }

    /// The checkpoint's root folder (holding Package.swift).
    public static var repositoryRoot: URL { directory.deletingLastPathComponent().deletingLastPathComponent() }

    /// PyTorch's reference values for the seed network (see `Tests/Fixtures/README.md`).
    public static var paritySeed0: URL { directory.appendingPathComponent("parity-seed0.safetensors") }

    /// The package's bundled MNIST folder (`Sources/MNISTData/Resources/mnist`).
    public static var mnistDirectory: URL {
        directory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/MNISTData/Resources/mnist")
    }
}
