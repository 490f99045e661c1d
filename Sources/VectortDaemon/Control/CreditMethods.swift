import Engine
import Foundation
import Protocol
import VectortCore

/// `io.vectort.Credits` (Purchase arrives with payments).
enum CreditMethods {
    static func register(into table: inout MethodTable, ledger: Ledger) {
        let user = ParameterDescriptor("user", .string, required: true, "user id")
        let hold = ParameterDescriptor("hold", .string, required: true, "hold id")
        let key = ParameterDescriptor("idempotency_key", .string, "a repeat returns the first result")

        table.register(
            MethodDescriptor(
                method: MethodName.creditsGetBalance, role: .client, parameters: [user],
                summary: "Spendable credits in total and per bucket, and credits held."),
            .onLoop { _, p, _ in try await ledger.balance(user: p.required("user")) })
        table.register(
            MethodDescriptor(method: MethodName.creditsListPackages, role: .client, summary: "Credit packages for sale."),
            .immediate { _, _ in CreditPackageList(packages: ledger.packages) })
        table.register(
            MethodDescriptor(
                method: MethodName.creditsHistory, role: .client,
                parameters: [
                    user, ParameterDescriptor("limit", .int, "1 to 500 (default 50)"),
                    ParameterDescriptor("after", .string, "next_after of the previous page"),
                ], summary: "Journal entries, newest first."),
            .async { _, p, _ in
                try await ledger.history(
                    user: p.required("user"), limit: p.int("limit", default: 50, in: 1...500), after: p.string("after"))
            })
        table.register(
            MethodDescriptor(
                method: MethodName.creditsGrant, role: .admin,
                parameters: [
                    user, ParameterDescriptor("amount", .int, required: true, "positive"),
                    ParameterDescriptor("bucket", .string, "topup (default), free or monthly"),
                    ParameterDescriptor("reason", .string, required: true),
                    ParameterDescriptor("expires_at", .string, "monthly only; RFC 3339 (default: in 30 days)"), key,
                ], summary: "Grants credits."),
            .onLoop { _, p, _ in
                let bucketName = p.string("bucket") ?? "topup"
                guard let bucket = CreditBucket(rawValue: bucketName) else {
                    throw WireError.invalidParameter("bucket", "bucket must be monthly, free or topup")
                }
                var expiresAt: Date?
                if let text = p.string("expires_at") {
                    guard let date = try? Date.ISO8601FormatStyle().parse(text) else {
                        throw WireError.invalidParameter("expires_at", "expires_at must be an RFC 3339 time")
                    }
                    expiresAt = date
                }
                return try await ledger.grant(
                    user: p.required("user"), amount: Self.amount(p), bucket: bucket, reason: p.required("reason"),
                    expiresAt: expiresAt, idempotencyKey: p.string("idempotency_key"))
            })
        table.register(
            MethodDescriptor(
                method: MethodName.creditsVerify, role: .admin,
                summary: "Recomputes every balance from the journal and reports each mismatch."),
            .async { _, _, _ in try await ledger.verify() })
        table.register(
            MethodDescriptor(
                method: MethodName.creditsHold, role: .admin,
                parameters: [
                    user, ParameterDescriptor("amount", .int, required: true, "positive"),
                    ParameterDescriptor("reference", .string, required: true, "what the credits are for"), key,
                ], summary: "Reserves credits (an addition to version 1; generations use it)."),
            .onLoop { _, p, _ in
                try await ledger.hold(
                    user: p.required("user"), amount: Self.amount(p), reference: p.required("reference"),
                    idempotencyKey: p.string("idempotency_key"))
            })
        table.register(
            MethodDescriptor(
                method: MethodName.creditsSettle, role: .admin,
                parameters: [hold, ParameterDescriptor("amount", .int, "credits to charge, at most the hold (default: all)")],
                summary: "Turns a hold into usage; the rest goes back."),
            .onLoop { _, p, _ in
                let charged = try p.int("amount").map { value -> Int in
                    guard let amount = Int(exactly: value), amount >= 0 else {
                        throw WireError.invalidParameter("amount", "amount must not be negative")
                    }
                    return amount
                }
                return try await ledger.settle(hold: p.required("hold"), charged: charged)
            })
        table.register(
            MethodDescriptor(method: MethodName.creditsRelease, role: .admin, parameters: [hold], summary: "Gives a hold back."),
            .onLoop { _, p, _ in try await ledger.release(hold: p.required("hold")) })
    }

    private static func amount(_ p: Parameters) throws -> Int {
        guard let value = p.int("amount"), let amount = Int(exactly: value), amount > 0 else {
            throw WireError.invalidParameter("amount", "amount must be a positive number of credits")
        }
        return amount
    }
}
