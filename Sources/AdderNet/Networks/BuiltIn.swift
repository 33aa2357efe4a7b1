// The networks `--model NAME` chooses from.

extension ModelDescription {
    /// Every network this program ships, the default first.
    public static let builtIn: [ModelDescription] = [.seed, .pytorchExamples, .seedBN]

    /// The built-in network called `name`. Throws `ModelDescriptionError.unknownModel` listing the names.
    public static func named(_ name: String) throws -> ModelDescription {
        guard let model = builtIn.first(where: { $0.name == name }) else {
            throw ModelDescriptionError.unknownModel(name: name, known: builtIn.map(\.name))
        }
        return model
    }
}
