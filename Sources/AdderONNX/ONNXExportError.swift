// What can stop an export: a network whose tensors do not fit its description, or a file that
// cannot be written.

/// An error of `ONNXExport`, printed as one line.
public enum ONNXExportError: Error, Equatable, CustomStringConvertible {
    /// The network holds `found` parameters or buffers (`kind`), its description `expected`.
    case tensorCount(kind: String, expected: Int, found: Int)
    /// The tensor of `state_dict` key `key` has shape `found`, its description says `expected`.
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    /// The ONNX file `file` could not be written; `reason` is the system's.
    case writeFailed(file: String, reason: String)

    /// One line naming what is wrong, the expected and the found value.
    public var description: String {
        switch self {
        case let .tensorCount(kind, expected, found):
            "the network holds \(found) \(kind), its description expects \(expected)"
        case let .shapeMismatch(key, expected, found):
            "\(key) has shape \(found), expected \(expected)"
        case let .writeFailed(file, reason):
            "\(file): cannot write ONNX file: \(reason)"
        }
    }
}
