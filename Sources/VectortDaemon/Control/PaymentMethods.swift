import Engine
import Foundation
import Protocol
import VectortCore

/// `io.vectort.Credits.Purchase` and `io.vectort.Payments`.
enum PaymentMethods {
    static func register(into table: inout MethodTable, payments: Payments) {
        table.register(
            MethodDescriptor(
                method: MethodName.creditsPurchase, role: .client,
                parameters: [
                    ParameterDescriptor("user", .string, required: true, "user id"),
                    ParameterDescriptor("package", .string, required: true, "a package of Credits.ListPackages"),
                    ParameterDescriptor("success_url", .string, "where Stripe sends the buyer after paying (default payments.success_url)"),
                    ParameterDescriptor("cancel_url", .string, "where Stripe sends a buyer who cancels (default payments.cancel_url)"),
                    ParameterDescriptor("idempotency_key", .string, "a repeat returns the same payment and Checkout Session"),
                ], summary: "Creates a payment and its Stripe Checkout Session; returns the URL to pay at."),
            .async { _, p, _ in
                try await payments.purchase(
                    user: p.required("user"), package: p.required("package"), successURL: p.string("success_url"),
                    cancelURL: p.string("cancel_url"), idempotencyKey: p.string("idempotency_key"))
            })
        table.register(
            MethodDescriptor(
                method: MethodName.paymentsList, role: .client,
                parameters: [
                    ParameterDescriptor("user", .string, "the user (required for client callers)"),
                    ParameterDescriptor("status", .string, "pending, paid, failed, expired, refunded, partially_refunded or disputed"),
                    ParameterDescriptor("limit", .int, "1 to 200 (default 50)"),
                    ParameterDescriptor("after", .string, "next_after of the previous page"),
                ], summary: "Payments, newest first."),
            .async { context, p, _ in
                try await payments.list(
                    user: p.owner(context), status: p.string("status"), limit: p.int("limit", default: 50, in: 1...200),
                    after: p.string("after"))
            })
        table.register(
            MethodDescriptor(
                method: MethodName.paymentsGet, role: .client,
                parameters: [
                    ParameterDescriptor("user", .string, "the user (required for client callers)"),
                    ParameterDescriptor("payment", .string, required: true, "payment id"),
                ], summary: "A payment with its Stripe events and ledger entries."),
            .async { context, p, _ in try await payments.get(p.required("payment"), user: p.owner(context)) })
        table.register(
            MethodDescriptor(
                method: MethodName.paymentsReconcile, role: .admin,
                parameters: [ParameterDescriptor("since", .string, "RFC 3339; default: shortly before the newest event recorded")],
                summary: "Lists Stripe's events and applies what the webhook missed; expires stale pending payments."),
            .async { _, p, _ in
                var since: Date?
                if let text = p.string("since") {
                    guard let date = Timestamps.parse(text) else {
                        throw WireError.invalidParameter("since", "since must be an RFC 3339 time")
                    }
                    since = date
                }
                return try await payments.reconcile(since: since)
            })
    }
}
