import ArgumentParser
import Foundation
import Protocol

struct Credits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Balances, history, packages, purchases, grants, holds and verification of the credit ledger.",
        subcommands: [
            Balance.self, History.self, Packages.self, Purchase.self, Grant.self, Verify.self, Hold.self, Settle.self,
            Release.self,
        ])

    struct Balance: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a user's spendable credits, in total and per bucket, and the credits held.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "User id (u_…).")
        var user: String

        func run() throws {
            try global.run {
                let balance = try decode(
                    CreditBalance.self, try global.connect().call(MethodName.creditsGetBalance, ["user": .string(user)]))
                Output.render(balance, as: global.format)
            }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a user's ledger entries, newest first, with their kinds and references.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var page: PageOptions

        @Argument(help: "User id (u_…).")
        var user: String

        func run() throws {
            try global.run {
                let client = try global.connect()
                let history = try page.fetch(
                    ["user": .string(user)],
                    call: { try decode(CreditHistory.self, try client.call(MethodName.creditsHistory, $0)) },
                    next: \.nextAfter, merge: { $0.entries += $1.entries; $0.nextAfter = $1.nextAfter })
                Output.render(history, as: global.format)
            }
        }
    }

    struct Packages: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the credit packages for sale.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            try global.run {
                let list = try decode(CreditPackageList.self, try global.connect().call(MethodName.creditsListPackages))
                Output.render(list, as: global.format)
            }
        }
    }

    struct Grant: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grant credits to a user (admin).",
            discussion: """
                Monthly credits expire (--expires-at, default in 30 days); free and topup credits do not. \
                With --idempotency-key, repeating the command has exactly one effect and prints the first result.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "User id (u_…).")
        var user: String

        @Argument(help: "Credits to grant, a positive integer.")
        var amount: Int

        @Option(name: .long, help: "Why the credits are granted (recorded in the ledger).")
        var reason: String

        @Option(name: .long, help: "Where the credits go: topup, free or monthly.")
        var bucket: String = CreditBucket.topup.rawValue

        @Option(name: .long, help: "When monthly credits expire, RFC 3339 (such as 2030-01-31T00:00:00Z).")
        var expiresAt: String?

        @Option(name: .long, help: "A repeat with the same key returns the first result instead of granting again.")
        var idempotencyKey: String?

        /// The grant's ledger entry and the balance after it, with what was asked for.
        struct Result: CommandResult {
            var grant: CreditGrant
            var amount: Int
            var bucket: String
            var user: String

            func encode(to encoder: any Encoder) throws { try grant.encode(to: encoder) }

            var text: String {
                let headline = "granted \(amount) \(bucket) credits to \(user) (entry \(grant.entry))"
                return Output.lines(headline) + grant.balance.text
            }
        }

        func validate() throws {
            guard amount > 0 else { throw ValidationError("AMOUNT must be a positive number of credits") }
            guard let bucket = CreditBucket(rawValue: bucket) else {
                throw ValidationError("--bucket must be topup, free or monthly")
            }
            if let expiresAt {
                guard bucket == .monthly else { throw ValidationError("--expires-at is for the monthly bucket only") }
                guard (try? Date.ISO8601FormatStyle().parse(expiresAt)) != nil else {
                    throw ValidationError("--expires-at must be an RFC 3339 time such as 2030-01-31T00:00:00Z")
                }
            }
        }

        func run() throws {
            var parameters: [String: JSONValue] = [
                "user": .string(user), "amount": .int(Int64(amount)), "reason": .string(reason), "bucket": .string(bucket),
            ]
            if let expiresAt { parameters["expires_at"] = .string(expiresAt) }
            if let idempotencyKey { parameters["idempotency_key"] = .string(idempotencyKey) }
            try global.run {
                let grant = try decode(CreditGrant.self, try global.connect().call(MethodName.creditsGrant, parameters))
                Output.render(Result(grant: grant, amount: amount, bucket: bucket, user: user), as: global.format)
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every balance from the ledger entries and report each mismatch (admin).",
            discussion: "Exits 0 when every cached balance matches its entries, 1 when any does not.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            try global.run {
                let result = try decode(CreditVerification.self, try global.connect().call(MethodName.creditsVerify))
                Output.render(result, as: global.format)
                if !result.mismatches.isEmpty { throw ExitCode(ExitCodes.failure) }
            }
        }
    }
}

extension CreditBalance: CommandResult {
    var text: String {
        var rows: [(String, String?)] = [("user", user), ("total", String(total)), ("held", String(held))]
        let known = CreditBucket.allCases.map(\.rawValue)
        for name in known + buckets.keys.filter({ !known.contains($0) }).sorted() {
            var value = String(buckets[name] ?? 0)
            if name == CreditBucket.monthly.rawValue, let monthlyExpiresAt { value += " (expires \(monthlyExpiresAt))" }
            rows.append((name, value))
        }
        return Output.lines(Output.fields(rows))
    }
}

extension CreditHistory: CommandResult {
    var text: String {
        let rows = entries.map { entry -> [String] in
            [
                String(entry.id), entry.createdAt, entry.kind, entry.bucket.rawValue,
                entry.amount > 0 ? "+\(entry.amount)" : String(entry.amount), entry.reference ?? "",
            ]
        }
        let header = ["ENTRY", "TIME", "KIND", "BUCKET", "AMOUNT", "REFERENCE"]
        return Output.page(Output.table([header] + rows), nextAfter: nextAfter)
    }
}

extension CreditPackageList: CommandResult {
    var text: String {
        let rows = packages.map { [$0.id, String($0.credits), $0.price.display] }
        return Output.lines(Output.table([["PACKAGE", "CREDITS", "PRICE"]] + rows))
    }
}

extension CreditVerification: CommandResult {
    var text: String {
        guard !mismatches.isEmpty else {
            return Output.lines("ok: \(balancesChecked) balances, \(entriesChecked) entries")
        }
        let rows = mismatches.map { [$0.user, $0.bucket, String($0.cached), String($0.computed)] }
        return Output.lines(
            "\(mismatches.count) mismatches in \(balancesChecked) balances, \(entriesChecked) entries",
            Output.table([["USER", "BUCKET", "CACHED", "COMPUTED"]] + rows, indent: "  "))
    }
}
