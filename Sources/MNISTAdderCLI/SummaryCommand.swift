// `mnist-adder summary`: the layers and parameters, as the seed prints them.
import AdderNet
import ArgumentParser

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary", abstract: "Print the layers, each parameter's name and shape, and the parameter count.")

    func run() {
        print(AdderNetwork.moduleDescription)
        print("")
        print(AdderNetwork.parameterTable)
    }
}
