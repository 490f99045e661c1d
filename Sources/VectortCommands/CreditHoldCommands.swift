import ArgumentParser
import Protocol

extension Credits {
    struct Hold: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reserve credits of a user for a reference (admin); settle or release the hold later.",
            discussion: """
                Fails with io.vectort.InsufficientCredits (exit 2) and no effect when the user cannot cover AMOUNT, \
                and with io.vectort.Conflict when the user is disabled.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "User id (u_…).")
        var user: String

        @Argument(help: "Credits to reserve, a positive integer.")
        var amount: Int

        @Option(name: .long, help: "What the credits are for, such as a generation id.")
        var reference: String

        @Option(name: .long, help: "A repeat with the same key returns the first hold instead of holding again.")
        var idempotencyKey: String?

        func validate() throws {
            guard amount > 0 else { throw ValidationError("AMOUNT must be a positive number of credits") }
        }

        func run() throws {
            var parameters: [String: JSONValue] = [
                "user": .string(user), "amount": .int(Int64(amount)), "reference": .string(reference),
            ]
            if let idempotencyKey { parameters["idempotency_key"] = .string(idempotencyKey) }
            try global.run {
                let hold = try decode(CreditHold.self, try global.connect().call(MethodName.creditsHold, parameters))
                Output.render(hold, as: global.format)
            }
        }
    }

    struct Settle: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn a hold into usage (admin), possibly for less; the rest goes back to the user.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Hold id (h_…).")
        var hold: String

        @Option(name: .long, help: "Credits to charge, at most the hold (default: all of it).")
        var amount: Int?

        func validate() throws {
            if let amount, amount < 0 { throw ValidationError("--amount must not be negative") }
        }

        func run() throws {
            var parameters: [String: JSONValue] = ["hold": .string(hold)]
            if let amount { parameters["amount"] = .int(Int64(amount)) }
            try global.run {
                let hold = try decode(CreditHold.self, try global.connect().call(MethodName.creditsSettle, parameters))
                Output.render(hold, as: global.format)
            }
        }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a hold back to the user in full (admin).")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Hold id (h_…).")
        var hold: String

        func run() throws {
            try global.run {
                let hold = try decode(
                    CreditHold.self, try global.connect().call(MethodName.creditsRelease, ["hold": .string(hold)]))
                Output.render(hold, as: global.format)
            }
        }
    }
}

extension CreditHold: CommandResult {
    var text: String {
        let taken = allocations.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return Output.lines(Output.fields([
            ("hold", id), ("user", user), ("status", status.rawValue), ("amount", String(amount)),
            ("charged", charged.map(String.init)), ("reference", reference), ("taken from", taken.isEmpty ? nil : taken),
            ("created", createdAt),
        ]))
    }
}
