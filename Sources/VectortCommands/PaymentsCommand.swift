import ArgumentParser
import Foundation
import Protocol

extension Credits {
    struct Purchase: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start buying a credit package: prints the Stripe Checkout URL to pay at.",
            discussion: """
                Creates a pending payment and its Stripe Checkout Session. The credits are granted when Stripe \
                tells vectortd the payment succeeded (the webhook, or the reconciler), never before. With \
                --idempotency-key, a repeat prints the same payment and URL. Exit 2 with io.vectort.Unavailable \
                (reason payments_not_configured) when no Stripe key is configured.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "User id (u_…).")
        var user: String

        @Argument(help: "Package id (see `credits packages`).")
        var package: String

        @Option(name: .long, help: "Where Stripe sends the buyer after paying (default payments.success_url; same origin).")
        var successURL: String?

        @Option(name: .long, help: "Where Stripe sends a buyer who cancels (default payments.cancel_url; same origin).")
        var cancelURL: String?

        @Option(name: .long, help: "A repeat with the same key returns the same payment and Checkout Session.")
        var idempotencyKey: String?

        func run() throws {
            var parameters: [String: JSONValue] = ["user": .string(user), "package": .string(package)]
            if let successURL { parameters["success_url"] = .string(successURL) }
            if let cancelURL { parameters["cancel_url"] = .string(cancelURL) }
            if let idempotencyKey { parameters["idempotency_key"] = .string(idempotencyKey) }
            try global.run {
                let result = try decode(PurchaseResult.self, try global.connect().call(MethodName.creditsPurchase, parameters))
                Output.render(result, as: global.format)
            }
        }
    }
}

struct PaymentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payments",
        abstract: "Stripe payments: list, show one with its events and ledger entries, reconcile with Stripe.",
        subcommands: [List.self, Show.self, Reconcile.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List payments, newest first.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var page: PageOptions

        @Option(name: .long, help: "Only this user's payments (required for client callers).")
        var user: String?

        @Option(name: .long, help: "pending, paid, failed, expired, refunded, partially_refunded or disputed.")
        var status: String?

        func run() throws {
            var parameters: [String: JSONValue] = [:]
            if let user { parameters["user"] = .string(user) }
            if let status { parameters["status"] = .string(status) }
            try global.run {
                let client = try global.connect()
                let list = try page.fetch(
                    parameters, call: { try decode(PaymentList.self, try client.call(MethodName.paymentsList, $0)) },
                    next: \.nextAfter, merge: { $0.payments += $1.payments; $0.nextAfter = $1.nextAfter })
                Output.render(list, as: global.format)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a payment with its Stripe events and ledger entries.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Payment id (pay_…).")
        var payment: String

        @Option(name: .long, help: "The user it belongs to (required for client callers).")
        var user: String?

        func run() throws {
            var parameters: [String: JSONValue] = ["payment": .string(payment)]
            if let user { parameters["user"] = .string(user) }
            try global.run {
                Output.render(try decode(PaymentDetail.self, try global.connect().call(MethodName.paymentsGet, parameters)), as: global.format)
            }
        }
    }

    struct Reconcile: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List Stripe's events and apply what the webhook missed (admin).",
            discussion: "Without --since, from shortly before the newest event recorded. Pending payments past their expiry expire.")

        @OptionGroup var global: GlobalOptions

        @Option(name: .long, help: "RFC 3339 time to list events from, e.g. 2026-12-01T00:00:00Z.")
        var since: String?

        func run() throws {
            var parameters: [String: JSONValue] = [:]
            if let since { parameters["since"] = .string(since) }
            try global.run {
                let report = try decode(
                    ReconcileReport.self, try global.connect().call(MethodName.paymentsReconcile, parameters, timeout: global.timeout ?? 120))
                Output.render(report, as: global.format)
            }
        }
    }
}

extension PurchaseResult: CommandResult {
    var text: String {
        Output.lines(
            checkoutURL,
            "  payment \(payment.id): \(payment.package), \(payment.credits) credits for \(payment.price.display), pay before \(expiresAt)")
    }
}

extension PaymentList: CommandResult {
    var text: String {
        let rows = payments.map {
            [$0.id, $0.user, $0.package, String($0.credits), $0.price.display, $0.status.rawValue, $0.createdAt]
        }
        let table = Output.table([["PAYMENT", "USER", "PACKAGE", "CREDITS", "PRICE", "STATUS", "CREATED"]] + rows)
        guard let nextAfter else { return Output.lines(table) }
        return Output.lines(table, "more: --after \(nextAfter)")
    }
}

extension PaymentDetail: CommandResult {
    var text: String {
        let rows: [[String]] = [
            ["user", payment.user], ["package", "\(payment.package), \(payment.credits) credits"],
            ["price", payment.price.display], ["status", payment.status.rawValue],
            ["session", payment.checkoutSession ?? "-"], ["created", payment.createdAt], ["paid", payment.paidAt ?? "-"],
            ["expires", payment.expiresAt],
            ["credits", "\(payment.creditsGranted) granted, \(payment.creditsReversed) taken back"],
        ]
        let events = self.events.map { [$0.created, $0.type, $0.outcome, $0.source, $0.id] }
        let entries = self.entries.map { [$0.createdAt, $0.kind, String($0.amount), $0.bucket.rawValue] }
        return Output.lines(
            "payment \(payment.id)", Output.table(rows, indent: "  "), "events:",
            events.isEmpty ? "  none" : Output.table(events, indent: "  "), "ledger entries:",
            entries.isEmpty ? "  none" : Output.table(entries, indent: "  "))
    }
}

extension ReconcileReport: CommandResult {
    var text: String {
        Output.lines("fetched \(fetched) events: \(applied) applied, \(alreadyApplied) already applied; \(expired) payments expired")
    }
}
