// The adder every network of this program ends in, as the seed defines it.

extension ModelDescription {
    /// The seed's adder: `input2` Linear(2, 5) → `layer1` Linear(5, 5) → `out2` Linear(5, 1), no
    /// activation, on stack([argmax(logits).float(), addend.float()], 1). Matches the seed's module.
    public static let standardAdder = [
        Linear("input2", 2, 5), Linear("layer1", 5, 5), Linear("out2", 5, 1),
    ]
}
