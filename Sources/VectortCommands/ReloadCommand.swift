import ArgumentParser
import Protocol

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make vectortd re-read its configuration and credentials.",
        discussion: "With --wait (what ExecReload= uses), returns only when the reload is done and prints the changed keys.")

    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "Wait until the reload is done (exit 2 if the new configuration is invalid).")
    var wait = false

    func run() throws {
        try global.run {
            let client = try global.connect()
            guard wait else {
                try client.send(CallRequest(method: MethodName.reload, oneway: true))
                Output.render(Requested(), as: global.format)
                return
            }
            let result = try decode(ReloadResult.self, try client.call(MethodName.reload))
            Output.render(result, as: global.format)
        }
    }

    /// A reload asked for without waiting for it.
    struct Requested: CommandResult {
        var requested = true

        var text: String { Output.lines("reload requested") }
    }
}

extension ReloadResult: CommandResult {
    var text: String {
        Output.lines(
            changed.isEmpty ? "reloaded; nothing changed" : "reloaded; changed: \(changed.joined(separator: ", "))")
    }
}
