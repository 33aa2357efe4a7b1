// The integers a checkpoint's adder was trained on: outside them its sum is an extrapolation nobody checked,
// so predict and the server refuse them.
import Foundation
import MNISTData

extension Checkpoint {
    /// The metadata key holding the addend range a checkpoint was trained on, as JSON `[LO, HI]` (inclusive;
    /// Swift's `ClosedRange` coding, as in the `options` metadata).
    public static let addendRangeKey = "addendRange"

    /// The addend range a checkpoint was trained on, from its metadata: the `addendRange` key, else the
    /// `addendRange` of its `options` (checkpoints written before the key existed), else the seed's 0...9 (a
    /// plain PyTorch `state_dict` has no metadata: the seed script trains on `randint(0, 10)`).
    /// - Throws: `CheckpointError.badAddendRange` when the metadata holds a range that cannot be read, is
    ///   empty, or reaches outside 0...`AdderDataset.maximumAddend`.
    public static func addendRange(metadata: [String: String]) throws -> ClosedRange<Int> {
        struct Options: Decodable { var addendRange: [Int]? }
        let bounds: [Int]?
        if let text = metadata[addendRangeKey] {
            guard let values = try? JSONDecoder().decode([Int].self, from: Data(text.utf8)) else {
                throw CheckpointError.badAddendRange(found: text)
            }
            bounds = values
        } else if let text = metadata["options"],
            let options = try? JSONDecoder().decode(Options.self, from: Data(text.utf8))
        {
            bounds = options.addendRange
        } else {
            bounds = nil
        }
        guard let bounds else { return AdderDataset.defaultAddendRange }
        guard bounds.count == 2, 0 <= bounds[0], bounds[0] <= bounds[1], bounds[1] <= AdderDataset.maximumAddend else {
            throw CheckpointError.badAddendRange(found: "\(bounds)")
        }
        return bounds[0]...bounds[1]
    }

    /// The metadata value recording `range`: JSON `[LO, HI]`.
    public static func addendRangeText(_ range: ClosedRange<Int>) -> String {
        "[\(range.lowerBound),\(range.upperBound)]"
    }
}
