import AsyncHTTPClient
import Foundation
import Logging
import Protocol
import Testing
import VectortTesting

@testable import Engine
import VectortCore

@testable import Storage

/// Payments against a loopback fake Stripe: purchases, verified events applied once, refunds,
/// disputes, reconciliation.
struct PaymentHarness: Sendable {
    let engine: TestEngine
    let stripe: FakeStripe
    let payments: Payments
    let settings: Locked<PaymentSettings>
    static let secret = "whsec_test_secret"

    var now: Int { Int(engine.clock.date.timeIntervalSince1970) }

    /// Delivers an event body signed as Stripe would, now.
    func deliver(_ body: [UInt8], secrets: [String] = [Self.secret], at time: Int? = nil) async -> WebhookAnswer {
        let header = FakeStripe.signatureHeader(body: body, secrets: secrets, timestamp: time ?? now)
        return await payments.webhook(body: body, signature: header)
    }

    func topup(_ user: String) async throws -> Int {
        try await engine.ledger.balance(user: user).buckets["topup"] ?? 0
    }

    func purchase(_ user: String, _ package: String = "starter", key: String? = nil) async throws -> PurchaseResult {
        try await payments.purchase(user: user, package: package, successURL: nil, cancelURL: nil, idempotencyKey: key)
    }
}

func withPayments<T>(configured: Bool = true, on backend: Backend = .sqlite, _ body: (PaymentHarness) async throws -> T) async throws -> T {
    let stripe = try await FakeStripe.start()
    let result: Result<T, any Error>
    do {
        result = .success(
            try await withEngine(on: backend) { engine in
                stripe.clock.value = Int(engine.clock.date.timeIntervalSince1970)
                let settings = Locked(
                    PaymentSettings(
                        apiBase: stripe.baseURL, secretKey: configured ? stripe.secretKey : nil,
                        webhookSecrets: [PaymentHarness.secret], successURL: "https://app.example/billing/done",
                        cancelURL: "https://app.example/billing"))
                let payments = Payments(
                    repository: engine.storage.payments, users: engine.storage.users, http: HTTPClient.shared,
                    settings: { settings.value }, now: { engine.clock.date }, logger: Logger(label: "payment-tests"))
                return try await body(
                    PaymentHarness(engine: engine, stripe: stripe, payments: payments, settings: settings))
            })
    } catch {
        result = .failure(error)
    }
    await stripe.shutdown()
    return try result.get()
}

@Suite("Payments: Checkout Sessions, verified events applied once, refunds, disputes, reconciliation")
struct PaymentTests {
    @Test(arguments: Backend.allCases) func aPurchaseCreatesAPendingPaymentAndItsCheckoutSession(_ backend: Backend) async throws {
        try await withPayments(on: backend) { h in
            let user = try await h.engine.user()
            let result = try await h.purchase(user, key: "buy-1")
            #expect(result.payment.status == .pending)
            #expect(result.payment.credits == 80)
            #expect(result.payment.price == Money(amountMinor: 2000, currency: "usd"))
            #expect(result.checkoutURL.hasPrefix(h.stripe.baseURL + "/pay/cs_test_"))
            let request = try #require(h.stripe.createRequests.first)
            #expect(request.headers["Idempotency-Key"] == result.payment.id)
            #expect(request.headers["Stripe-Version"] == PaymentSettings.defaultAPIVersion)
            let form = Dictionary(request.form, uniquingKeysWith: { a, _ in a })
            #expect(form["mode"] == "payment")
            #expect(form["client_reference_id"] == user)
            #expect(form["line_items[0][price_data][unit_amount]"] == "2000")
            #expect(form["line_items[0][price_data][currency]"] == "usd")
            #expect(form["line_items[0][quantity]"] == "1")
            #expect(form["metadata[payment]"] == result.payment.id)
            #expect(form["metadata[user]"] == user)
            #expect(form["metadata[package]"] == "starter")
            #expect(form["success_url"] == "https://app.example/billing/done")
            #expect(form["expires_at"] == String(h.now + 3600))

            let again = try await h.purchase(user, key: "buy-1")
            #expect(again == result)
            #expect(h.stripe.sessions.count == 1)
            await expectEngineError(.conflict) { try await h.purchase(user, "pro", key: "buy-1") }
            #expect(try await h.topup(user) == 0)
        }
    }

    @Test func badPurchasesAreNamedAndChangeNothing() async throws {
        try await withPayments { h in
            let user = try await h.engine.user()
            await expectEngineError(.invalidParameter, parameter: "package") { try await h.purchase(user, "gold") }
            await expectEngineError(.notFound) { try await h.purchase("u_missing") }
            await expectEngineError(.invalidParameter, parameter: "success_url") {
                try await h.payments.purchase(
                    user: user, package: "micro", successURL: "https://evil.example/x", cancelURL: nil, idempotencyKey: nil)
            }
            _ = try await h.engine.users.disable(user)
            await expectEngineError(.conflict) { try await h.purchase(user) }
            #expect(try await h.engine.count("payments") == 0)
            #expect(h.stripe.createRequests.isEmpty)
        }
        try await withPayments(configured: false) { h in
            let user = try await h.engine.user()
            let error = await expectEngineError(.unavailable) { try await h.purchase(user) }
            #expect(error?.details["reason"] == .string("payments_not_configured"))
            #expect(try await h.engine.count("payments") == 0)
        }
    }

    @Test(arguments: Backend.allCases) func stripeErrorsMapToNamedErrors(_ backend: Backend) async throws {
        try await withPayments(on: backend) { h in
            let user = try await h.engine.user()
            h.stripe.failNextCreate(
                status: 400, type: "invalid_request_error", code: "url_invalid", param: "success_url", message: "Not a valid URL")
            let refused = await expectEngineError(.invalidParameter) { try await h.purchase(user) }
            #expect(refused?.details["parameter"] == .string("success_url"))
            #expect(try await h.payments.list(user: user, status: "failed", limit: 10, after: nil).payments.count == 1)

            h.stripe.failNextCreate(status: 503, type: "api_error", message: "try later", times: 3)
            let down = await expectEngineError(.unavailable) { try await h.purchase(user) }
            #expect(down?.details["retry_after_seconds"] != nil)
            // A retry after the outage gets its session.
            h.stripe.failNextCreate(status: 429, type: "rate_limit_error", message: "slow down")
            let result = try await h.purchase(user, key: "after-outage")
            #expect(result.payment.checkoutSession != nil)
        }
    }

    @Test(arguments: Backend.allCases) func aPaidSessionGrantsItsCreditsOnceWhateverTheDeliveries(_ backend: Backend) async throws {
        try await withPayments(on: backend) { h in
            let user = try await h.engine.user()
            let purchase = try await h.purchase(user)
            let session = try #require(purchase.payment.checkoutSession)
            let completed = h.stripe.complete(session)
            let answers = await withTaskGroup(of: Int.self) { group in
                for _ in 0..<10 { group.addTask { await h.deliver(completed).status } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers == Array(repeating: 200, count: 10))
            // Another event saying the same (async success) grants nothing more.
            #expect(await h.deliver(h.stripe.asyncSucceeded(session)).status == 200)
            #expect(try await h.topup(user) == 80)
            let detail = try await h.payments.get(purchase.payment.id, user: user)
            #expect(detail.payment.status == .paid)
            #expect(detail.payment.paidAt != nil)
            #expect(detail.entries.map(\.kind) == ["purchase"])
            #expect(detail.events.map(\.outcome) == ["applied", "ignored"])
            #expect(try await h.engine.count("stripe_events") == 2)
            #expect(try await h.engine.ledgerViolations().isEmpty)
        }
    }

    @Test(arguments: Backend.allCases) func unverifiedBodiesAreRefusedAndNothingIsStored(_ backend: Backend) async throws {
        try await withPayments(on: backend) { h in
            let user = try await h.engine.user()
            let session = try #require(try await h.purchase(user).payment.checkoutSession)
            let body = h.stripe.complete(session)
            #expect(await h.payments.webhook(body: body, signature: nil).status == 400)
            #expect(await h.deliver(body, secrets: ["whsec_wrong"]).status == 400)
            #expect(await h.deliver(body, at: h.now - 301).text == "timestamp outside the tolerance")
            #expect(await h.deliver(body, at: h.now + 301).status == 400)
            let header = FakeStripe.signatureHeader(body: body, secrets: [PaymentHarness.secret], timestamp: h.now)
            #expect(await h.payments.webhook(body: body + [0x20], signature: header).status == 400)
            #expect(await h.payments.webhook(body: Array(body.dropLast()), signature: header).status == 400)
            #expect(try await h.engine.count("stripe_events") == 0)
            #expect(try await h.topup(user) == 0)
            // During a rotation either secret verifies.
            h.settings.value.webhookSecrets = ["whsec_new", PaymentHarness.secret]
            #expect(await h.deliver(body, secrets: ["whsec_new"]).status == 200)
            #expect(try await h.topup(user) == 80)
        }
    }

    @Test(arguments: Backend.allCases) func unknownTypesAndStrangersAreStoredWithoutEffect(_ backend: Backend) async throws {
        try await withPayments(on: backend) { h async throws in
            let other = h.stripe.record(type: "customer.created", object: #"{"id": "cus_1", "object": "customer"}"#)
            #expect(await h.deliver(other).status == 200)
            let stranger = h.stripe.record(
                type: "checkout.session.completed",
                object: #"{"id": "cs_test_elsewhere", "object": "checkout.session", "payment_status": "paid", "amount_total": 2000, "currency": "usd", "metadata": {}}"#)
            #expect(await h.deliver(stranger) == WebhookAnswer(status: 200, text: "unmatched"))
            #expect(try await h.engine.count("stripe_events") == 2)
            #expect(try await h.engine.count("credit_entries", where: "kind = 'purchase'") == 0)
        }
    }

    @Test(arguments: Backend.allCases) func aPaymentOfAnotherAmountGrantsNothing(_ backend: Backend) async throws {
        try await withPayments(on: backend) { h in
            let user = try await h.engine.user()
            let purchase = try await h.purchase(user)
            let body = h.stripe.complete(purchase.payment.checkoutSession!, amount: 200)
            #expect(await h.deliver(body) == WebhookAnswer(status: 200, text: "mismatch"))
            #expect(try await h.topup(user) == 0)
            #expect(try await h.payments.get(purchase.payment.id, user: nil).payment.status == .pending)
        }
    }

    @Test(arguments: Backend.allCases) func refundsAndDisputesTakeBackTheirShare(_ backend: Backend) async throws {
        try await withPayments(on: backend) { h in
            let user = try await h.engine.user()
            let purchase = try await h.purchase(user)
            let session = purchase.payment.checkoutSession!
            _ = await h.deliver(h.stripe.complete(session))
            #expect(await h.deliver(h.stripe.refund(session, amount: 500)).status == 200)
            #expect(try await h.topup(user) == 60)
            #expect(try await h.payments.get(purchase.payment.id, user: nil).payment.status == .partiallyRefunded)
            _ = await h.deliver(h.stripe.openDispute(session))
            #expect(try await h.topup(user) == 0)
            _ = await h.deliver(h.stripe.closeDispute(session, won: true))
            #expect(try await h.topup(user) == 60)
            _ = await h.deliver(h.stripe.refund(session, amount: 1500))
            #expect(try await h.topup(user) == 0)
            let detail = try await h.payments.get(purchase.payment.id, user: nil)
            #expect(detail.payment.status == .refunded)
            #expect(detail.entries.map(\.kind) == ["purchase", "refund", "reversal", "adjustment", "refund"])
            #expect(detail.entries.map(\.amount) == [80, -20, -60, 60, -60])
            #expect(try await h.engine.ledgerViolations().isEmpty)
        }
    }

    @Test(arguments: Backend.allCases) func creditsAlreadySpentLeaveTheBalanceNegativeAndItShows(_ backend: Backend) async throws {
        try await withPayments(on: backend) { h in
            let user = try await h.engine.user()
            let session = try await h.purchase(user, "micro").payment.checkoutSession!
            _ = await h.deliver(h.stripe.complete(session))
            let hold = try await h.engine.ledger.hold(user: user, amount: 15, reference: "spend")
            _ = try await h.engine.ledger.settle(hold: hold.id)
            _ = await h.deliver(h.stripe.refund(session, amount: 1000))
            let balance = try await h.engine.ledger.balance(user: user)
            #expect(balance.buckets["topup"] == -5)
            #expect(balance.total == -5)
            await expectEngineError(.insufficientCredits) { try await h.engine.ledger.hold(user: user, amount: 1, reference: "more") }
            #expect(try await h.engine.ledgerViolations().isEmpty)
        }
    }

    @Test(arguments: Backend.allCases) func aRefundSeenBeforeThePaymentAppliesOnceItIsPaid(_ backend: Backend) async throws {
        try await withPayments(on: backend) { h in
            let user = try await h.engine.user()
            let session = try await h.purchase(user).payment.checkoutSession!
            let completed = h.stripe.complete(session)
            let refunded = h.stripe.refund(session, amount: 1000)
            #expect(await h.deliver(refunded).status == 200)
            #expect(try await h.topup(user) == 0)
            #expect(await h.deliver(completed).status == 200)
            #expect(try await h.topup(user) == 40)
        }
    }

    @Test(arguments: Backend.allCases) func theReconcilerAppliesWhatTheWebhookMissedOnce(_ backend: Backend) async throws {
        try await withPayments(on: backend) { h in
            let user = try await h.engine.user()
            let paid = try await h.purchase(user).payment.checkoutSession!
            let late = try await h.purchase(user, "micro")
            let waiting = try await h.purchase(user, "pro")
            h.stripe.complete(paid)
            h.stripe.complete(waiting.payment.checkoutSession!, paid: false)
            let first = try await h.payments.reconcile()
            #expect(first.fetched == 2)
            #expect(first.applied == 2)
            #expect(try await h.topup(user) == 80)
            h.engine.clock.advance(by: .seconds(2 * 3600))
            let second = try await h.payments.reconcile()
            #expect(second.alreadyApplied == 2)
            #expect(second.applied == 0)
            #expect(second.expired == 1, "the session never completed expires; the one awaiting its payment does not")
            #expect(try await h.payments.get(late.payment.id, user: nil).payment.status == .expired)
            #expect(try await h.payments.get(waiting.payment.id, user: nil).payment.status == .pending)
            // A paid event grants whatever the local state.
            h.stripe.clock.value = h.now
            _ = await h.deliver(h.stripe.complete(late.payment.checkoutSession!))
            #expect(try await h.topup(user) == 90)
        }
    }
}

@Suite("Stripe-Signature verification")
struct StripeSignatureTests {
    static let payload = Array(#"{"id":"evt_test","object":"event","type":"checkout.session.completed"}"#.utf8)

    @Test(arguments: [
        ("whsec_test_secret", 1_700_000_000, "9b19c30bb5f6198a9128346b4849a56c6c32857a47889eed5b47c5f30823e7dc"),
        ("whsec_test_secret_rolled", 1_700_000_000, "3e74de1acbc0f5c75f2fa4f5ff9b1db44624f8433efa820990a04938e3822b87"),
        ("whsec_test_secret", 1_700_000_001, "7e7de9c09ad076aa3cd27c3aa4cb686960ab5380675e3de762d35a15706cbf7f"),
    ])
    func publishedVectorsVerifyAndTheFakeSignsThem(_ secret: String, _ t: Int, _ v1: String) throws {
        let now = Date(timeIntervalSince1970: TimeInterval(t + 100))
        try StripeSignature.verify(header: "t=\(t),v1=\(v1)", body: Self.payload, secrets: [secret], now: now, tolerance: 300)
        #expect(FakeStripe.signatureHeader(body: Self.payload, secrets: [secret], timestamp: t).contains("v1=\(v1)"))
        #expect(StripeSignature.header(body: Self.payload, secrets: [secret], timestamp: t) == "t=\(t),v1=\(v1)")
    }

    @Test func theEmptyObjectVector() throws {
        try StripeSignature.verify(
            header: "t=1533204620,v1=ce7c8ae9028c255f3569f6bc3149d2ee7025705423b340b062ceba8081df3f7f,v0=63f3",
            body: Array("{}".utf8), secrets: ["webhook_secret"], now: Date(timeIntervalSince1970: 1_533_204_720), tolerance: 300)
    }

    @Test func rotationAnyV1AgainstAnySecret() throws {
        let header =
            "t=1700000000,v1=9b19c30bb5f6198a9128346b4849a56c6c32857a47889eed5b47c5f30823e7dc,v1=3e74de1acbc0f5c75f2fa4f5ff9b1db44624f8433efa820990a04938e3822b87"
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        try StripeSignature.verify(header: header, body: Self.payload, secrets: ["whsec_test_secret_rolled"], now: now, tolerance: 300)
        try StripeSignature.verify(header: header + ",v1=bad_signature", body: Self.payload, secrets: ["other", "whsec_test_secret"], now: now, tolerance: 300)
    }

    @Test func whatIsRefused() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let good = "t=1700000000,v1=9b19c30bb5f6198a9128346b4849a56c6c32857a47889eed5b47c5f30823e7dc"
        func rejection(_ header: String?, body: [UInt8] = Self.payload, at time: Date = now) -> StripeSignature.Rejection? {
            do {
                try StripeSignature.verify(header: header, body: body, secrets: ["whsec_test_secret"], now: time, tolerance: 300)
                return nil
            } catch {
                return error
            }
        }
        #expect(rejection(nil) == .missing)
        #expect(rejection("") == .missing)
        for malformed in ["t=,v1=ab", "t,v1=,v0=", "t,v1=,v0", "t,v1=,", "t,,", ",,", "t"] {
            #expect(rejection(malformed) == .malformed, "\(malformed)")
        }
        #expect(rejection("t=1700000000,v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef") == .noSignature)
        #expect(rejection(good, body: Self.payload + [0x20]) == .mismatch)
        #expect(rejection(good, at: now.addingTimeInterval(301)) == .outsideTolerance)
        #expect(rejection(good, at: now.addingTimeInterval(-301)) == .outsideTolerance)
        #expect(rejection(good, at: now.addingTimeInterval(300)) == nil)
    }
}

@Suite("A payment's state as a value")
struct PaymentStateTests {
    static func paid() -> PaymentState {
        var state = PaymentState(status: .pending, credits: 80, price: Money(amountMinor: 2000, currency: "usd"))
        _ = state.paid(amount: 2000, currency: "USD")
        return state
    }

    @Test func paidGrantsOnceAndOnlyAtThePrice() {
        var state = PaymentState(status: .pending, credits: 80, price: Money(amountMinor: 2000, currency: "usd"))
        #expect(state.paid(amount: 1999, currency: "usd").0 == .mismatch)
        #expect(state.paid(amount: 2000, currency: "eur").0 == .mismatch)
        #expect(state.paid(amount: 2000, currency: "usd") == (.applied, [.grant(80, kind: "purchase")]))
        #expect(state.paid(amount: 2000, currency: "usd") == (.ignored, []))
        #expect(state.failed() == .ignored)
        #expect(state.expired() == .ignored)
        #expect(state.status == .paid)
    }

    @Test func anExpiredOrFailedPaymentThatIsPaidAfterAllIsGranted() {
        var state = PaymentState(status: .pending, credits: 10, price: Money(amountMinor: 1000, currency: "usd"))
        #expect(state.expired() == .applied)
        #expect(state.paid(amount: 1000, currency: "usd").1 == [.grant(10, kind: "purchase")])
    }

    @Test func partialRefundsFollowTheCumulativeAmount() {
        var state = Self.paid()
        #expect(state.refunded(cumulative: 700).1 == [.reverse(28, kind: "refund")])
        #expect(state.refunded(cumulative: 700) == (.ignored, []), "a repeat reverses nothing")
        #expect(state.refunded(cumulative: 500) == (.ignored, []), "an older event reverses nothing")
        #expect(state.status == .partiallyRefunded)
        #expect(state.refunded(cumulative: 2000).1 == [.reverse(52, kind: "refund")])
        #expect(state.reversed == 80)
        #expect(state.status == .refunded)
    }

    @Test func aDisputeTakesWhatIsLeftAndAWinGivesItBack() {
        var state = Self.paid()
        _ = state.refunded(cumulative: 1000)
        #expect(state.disputeOpened().1 == [.reverse(40, kind: "reversal")])
        #expect(state.disputeOpened() == (.ignored, []))
        #expect(state.status == .disputed)
        #expect(state.disputeClosed(won: true).1 == [.grant(40, kind: "adjustment")])
        #expect(state.status == .partiallyRefunded)
        var lost = Self.paid()
        _ = lost.disputeOpened()
        #expect(lost.disputeClosed(won: false) == (.applied, []))
        #expect(lost.reversed == 80)
    }

    @Test func factsBeforeThePaymentApplyWhenItIsPaid() {
        var state = PaymentState(status: .pending, credits: 80, price: Money(amountMinor: 2000, currency: "usd"))
        #expect(state.refunded(cumulative: 1000) == (.applied, []))
        #expect(
            state.paid(amount: 2000, currency: "usd").1 == [.grant(80, kind: "purchase"), .reverse(40, kind: "refund")])
    }
}
