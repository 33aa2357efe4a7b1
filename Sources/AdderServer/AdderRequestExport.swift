// AdderServer's public API speaks in AdderRequest's types (ServerConfiguration, PredictionRequestError,
// InputSummary), which lived here before the request parsing became its own module: importing
// AdderServer keeps bringing them, for the CLI and the tests as before.
@_exported import AdderRequest

/// The server's configuration, `AdderRequest.ServerConfiguration`, under the name it had in this module.
/// HummingbirdCore has a `ServerConfiguration` of its own; a declaration here shadows both for this module
/// and for every file that imports AdderServer together with Hummingbird.
public typealias ServerConfiguration = AdderRequest.ServerConfiguration
