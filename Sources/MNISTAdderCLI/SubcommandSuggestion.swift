// A mistyped subcommand gets the nearest one suggested, as ArgumentParser already does for a
// mistyped option ("Unknown option '--epoch'. Did you mean '--epochs'?").
import ArgumentParser
import NNCore

extension MNISTAdderCommand {
    /// The subcommand names, with ArgumentParser's own `help`.
    static var subcommandNames: [String] {
        configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"]
    }

    /// One line for a first argument that is not an option and no subcommand (`trian`): "unknown
    /// subcommand 'trian'; did you mean 'train'?" when one is within two edits (a swap of neighbours
    /// counts one) or starts with it, else the list of subcommands. Nil when the first argument is an
    /// option, a subcommand, or absent.
    static func unknownSubcommandMessage(_ arguments: [String]) -> String? {
        guard let word = arguments.first, !word.hasPrefix("-"), !subcommandNames.contains(word) else { return nil }
        let names = subcommandNames.filter { $0 != "help" }
        let nearest = names.map { (name: $0, distance: editDistance(word.lowercased(), $0)) }
            .min { $0.distance < $1.distance }
        let prefixed = names.filter { $0.hasPrefix(word.lowercased()) }
        let suggestion: String?
        if let nearest, nearest.distance <= 2 {
            suggestion = nearest.name
        } else if prefixed.count == 1 {
            suggestion = prefixed[0]
        } else {
            suggestion = nil
        }
        let head = "unknown subcommand '\(word)'"
        if let suggestion { return head + "; did you mean '\(suggestion)'?" }
        return head + ", expected one of " + names.joined(separator: ", ")
    }
}
