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
    /// subcommand 'trian'; did you mean 'train'?" when only one starts with it (`exp`), or else the
    /// nearest is within two edits (one for words under five letters; a swap of neighbours counts
    /// one), else the list of subcommands. Nil when the first argument is an option, a subcommand,
    /// or absent. After `help`, the word that follows it is checked (`help trian`).
    static func unknownSubcommandMessage(_ arguments: [String]) -> String? {
        if arguments.first == "help", arguments.count > 1 { return unknownSubcommandMessage(Array(arguments.dropFirst())) }
        guard let word = arguments.first, !word.hasPrefix("-"), !subcommandNames.contains(word) else { return nil }
        let names = subcommandNames
        let nearest = names.map { (name: $0, distance: editDistance(word.lowercased(), $0)) }
            .min { $0.distance < $1.distance }
        let prefixed = names.filter { $0.hasPrefix(word.lowercased()) }
        // Two edits in a short word change most of it: one for words under five letters.
        let allowed = word.count >= 5 ? 2 : 1
        let suggestion: String?
        if prefixed.count == 1 {
            suggestion = prefixed[0]
        } else if let nearest, nearest.distance <= allowed {
            suggestion = nearest.name
        } else {
            suggestion = nil
        }
        let head = "unknown subcommand '\(word)'"
        if let suggestion { return head + "; did you mean '\(suggestion)'?" }
        return head + ", expected one of " + names.filter { $0 != "help" }.joined(separator: ", ")
    }
}
