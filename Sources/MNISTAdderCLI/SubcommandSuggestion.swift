// A mistyped subcommand gets the nearest one suggested, as ArgumentParser already does for a
// mistyped option ("Unknown option '--epoch'. Did you mean '--epochs'?").
import ArgumentParser

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

    /// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`: the optimal string
    /// alignment distance.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
