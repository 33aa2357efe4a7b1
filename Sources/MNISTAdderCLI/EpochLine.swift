// What `train` says about each finished epoch: the line a person reads (with the metrics still warming
// up named) and, with `--json`, one JSON object a script reads.
import AdderNet
import Foundation
import NNCore

/// The epoch metrics that are still warming up. The adder sees the predicted digit, so it cannot learn
/// the sums before the classifier knows the digits: in the first epochs its accuracy lags far behind
/// classification (0.95% against 79% in the default run's first epoch) and says nothing yet about the
/// adder. A sum accuracy more than `margin` below its classification accuracy is reported as warming up.
enum WarmUp {
    /// How far below classification accuracy a sum accuracy counts as warming up (1 point).
    static let margin = 0.01

    /// The JSON names of `record`'s warming-up metrics (`trainAdditionAccuracy`, `testAdditionAccuracy`).
    static func metrics(_ record: EpochRecord) -> [String] {
        var names: [String] = []
        if record.trainAdditionAccuracy < record.trainClassificationAccuracy - margin { names.append("trainAdditionAccuracy") }
        if record.testAdditionAccuracy < record.testClassificationAccuracy - margin { names.append("testAdditionAccuracy") }
        return names
    }

    /// A note for the epoch line naming its warming-up columns, or "" when none is.
    static func note(_ record: EpochRecord) -> String {
        let columns = metrics(record).map { $0 == "trainAdditionAccuracy" ? "train add" : "test add" }
        guard !columns.isEmpty else { return "" }
        return "  \(columns.joined(separator: ", ")) warming up (the adder learns once the digits are right)"
    }
}

/// One epoch as a JSON object of `train --json`: the history's fields, the run's total epochs and the
/// warming-up metrics.
struct EpochJSON: Encodable {
    let epoch: Int
    let epochs: Int
    let loss: Double
    let crossEntropy: Double
    let mse: Double
    let trainClassificationAccuracy: Double
    let trainAdditionAccuracy: Double
    let testClassificationAccuracy: Double
    let testAdditionAccuracy: Double
    let trainSeconds: Double
    let testSeconds: Double
    let dataSeconds: Double
    let learningRate: Double
    let warmingUp: [String]

    init(_ r: EpochRecord, epochs: Int) {
        epoch = r.epoch
        self.epochs = epochs
        loss = r.loss
        crossEntropy = r.crossEntropy
        mse = r.mse
        trainClassificationAccuracy = r.trainClassificationAccuracy
        trainAdditionAccuracy = r.trainAdditionAccuracy
        testClassificationAccuracy = r.testClassificationAccuracy
        testAdditionAccuracy = r.testAdditionAccuracy
        trainSeconds = r.trainSeconds
        testSeconds = r.testSeconds
        dataSeconds = r.dataSeconds
        learningRate = r.learningRate
        warmingUp = WarmUp.metrics(r)
    }

    /// The object on one line, keys sorted, slashes not escaped.
    func line() throws -> String {
        try JSONOutput.string(self)
    }
}
