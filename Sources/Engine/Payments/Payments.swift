public import AsyncHTTPClient
public import Foundation
public import Logging
public import Protocol
public import VectortCore
package import Storage
public import Observability

/// Payment settings from configuration and credentials (replaced on reload).
public struct PaymentSettings: Sendable, Equatable {
    public var apiBase: String
    public var apiVersion: String
    /// The Stripe secret key; nil: payments are off.
    public var secretKey: String?
    /// Every active webhook signing secret (several during a rotation).
    public var webhookSecrets: [String]
    public var toleranceSeconds: Double
    public var checkoutExpiryMinutes: Int
    public var successURL: String?
    public var cancelURL: String?
    public var packages: [CreditPackage]

    public init(
        apiBase: String = "https://api.stripe.com", apiVersion: String = PaymentSettings.defaultAPIVersion,
        secretKey: String? = nil, webhookSecrets: [String] = [], toleranceSeconds: Double = 300,
        checkoutExpiryMinutes: Int = 60, successURL: String? = nil, cancelURL: String? = nil,
        packages: [CreditPackage] = CreditRules.defaultPackages
    ) {
        self.apiBase = apiBase
        self.apiVersion = apiVersion
        self.secretKey = secretKey
        self.webhookSecrets = webhookSecrets
        self.toleranceSeconds = toleranceSeconds
        self.checkoutExpiryMinutes = checkoutExpiryMinutes
        self.successURL = successURL
        self.cancelURL = cancelURL
        self.packages = packages
    }

    /// The API version of the reference notes (docs/configuration.md).
    public static let defaultAPIVersion = "2025-03-31.basil"

    public var configured: Bool { secretKey?.isEmpty == false }
}

/// What the webhook listener answers.
public struct WebhookAnswer: Sendable, Equatable {
    public var status: Int
    public var text: String
}

/// Buying credits: Checkout Sessions out, verified Stripe events in, each applied exactly once,
/// and a reconciler that catches up on what the webhook missed.
public final class Payments: Sendable {
    let observer: Observer
    package let repository: any PaymentRepository
    let users: any UserRepository
    let http: HTTPClient
    let settings: @Sendable () -> PaymentSettings
    let now: @Sendable () -> Date
    let logger: Logger
    /// The event types the reconciler lists.
    static let eventTypes = [
        "checkout.session.completed", "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed", "checkout.session.expired", "charge.refunded",
        "charge.dispute.created", "charge.dispute.closed",
    ]

    package init(
        repository: any PaymentRepository, users: any UserRepository, http: HTTPClient,
        settings: @escaping @Sendable () -> PaymentSettings, now: @escaping @Sendable () -> Date = { Date() },
        observer: Observer = Observer(), logger: Logger
    ) {
        self.observer = observer
        self.repository = repository
        self.users = users
        self.http = http
        self.settings = settings
        self.now = now
        self.logger = logger
    }

    /// Purchases and reconciliation without a Stripe key.
    static let notConfigured = EngineError(
        WireError(
            .unavailable, "payments are not configured (no stripe-secret-key)", ["reason": .string("payments_not_configured")]))

    // MARK: Buying

    /// `Credits.Purchase`: a pending payment and its Checkout Session.
    public func purchase(
        user: String, package id: String, successURL: String?, cancelURL: String?, idempotencyKey: String?
    ) async throws -> PurchaseResult {
        try EngineError.refuseNUL([
            "user": user, "package": id, "success_url": successURL, "cancel_url": cancelURL,
            "idempotency_key": idempotencyKey,
        ])
        let settings = settings()
        guard let package = settings.packages.first(where: { $0.id == id }) else {
            throw EngineError.invalid(
                "package", "no package \"\(id)\" (packages: \(settings.packages.map(\.id).joined(separator: ", ")))")
        }
        let success = try Self.returnURL(successURL, parameter: "success_url", configured: settings.successURL, origin: settings.successURL)
        let cancel = try Self.returnURL(
            cancelURL, parameter: "cancel_url", configured: settings.cancelURL ?? settings.successURL, origin: settings.successURL)
        if let idempotencyKey, idempotencyKey.isEmpty || idempotencyKey.utf8.count > 255 {
            throw EngineError.invalid("idempotency_key", "idempotency_key must be 1 to 255 bytes")
        }
        let account = try await users.get(user)
        guard account.status == .active else { throw EngineError.conflict("user \(user) is disabled") }
        guard let secretKey = settings.secretKey, !secretKey.isEmpty else {
            throw Self.notConfigured
        }
        let now = now()
        let expires = now.addingTimeInterval(TimeInterval(settings.checkoutExpiryMinutes * 60))
        let (payment, existing) = try await repository.create(
            PaymentCreateRequest(
                user: user, package: package, successURL: success, cancelURL: cancel, idempotencyKey: idempotencyKey,
                expiresAt: expires), now: now)
        if existing, let url = payment.checkoutURL, payment.checkoutSession != nil {
            return PurchaseResult(payment: payment, checkoutURL: url, expiresAt: payment.expiresAt)
        }
        guard payment.status == .pending else {
            throw EngineError.conflict("payment \(payment.id) of idempotency_key \(idempotencyKey ?? "") is \(payment.status.rawValue)")
        }
        let client = StripeClient(http: http, apiBase: settings.apiBase, apiVersion: settings.apiVersion, secretKey: secretKey)
        let session: StripeClient.Session
        do {
            // Our payment id is the Stripe idempotency key: a retry, or a repeat of this
            // purchase's idempotency key, gets the same session.
            session = try await client.createCheckoutSession(
                Self.sessionForm(payment: payment, package: package, success: success, cancel: cancel),
                idempotencyKey: payment.id)
        } catch let error as EngineError where error.wireError.name != .unavailable {
            try? await repository.failCreation(payment: payment.id, now: now)
            if let failed = try? await repository.get(payment.id, user: nil).payment, failed.status == .failed {
                published(failed, credits: 0)
            }
            throw error
        }
        let stored = try await repository.attachSession(payment: payment.id, session: session.id, url: session.url)
        observer.metrics.increment(Metric.checkoutCreated, [package.id])
        observer.events.publish(
            "payment.pending",
            ["payment": .string(stored.id), "user": .string(user), "package": .string(package.id), "credits": .int(Int64(package.credits))])
        var log = logger
        log[metadataKey: "payment"] = "\(payment.id)"
        log[metadataKey: "user"] = "\(user)"
        log.info("checkout session created", metadata: ["package": "\(package.id)", "session": "\(session.id)"])
        return PurchaseResult(payment: stored, checkoutURL: session.url ?? stored.checkoutURL ?? "", expiresAt: stored.expiresAt)
    }

    /// The form of the Checkout Session of a payment.
    static func sessionForm(payment: Payment, package: CreditPackage, success: String, cancel: String) -> [(String, String)] {
        let expires = Timestamps.parse(payment.expiresAt).map { String(Int($0.timeIntervalSince1970)) }
        var form: [(String, String)] = [
            ("mode", "payment"), ("success_url", success), ("cancel_url", cancel), ("client_reference_id", payment.user),
            ("line_items[0][price_data][currency]", package.price.currency),
            ("line_items[0][price_data][unit_amount]", String(package.price.amountMinor)),
            ("line_items[0][price_data][product_data][name]", "\(package.id.capitalized) — \(package.credits) credits"),
            ("line_items[0][quantity]", "1"),
            ("metadata[user]", payment.user), ("metadata[package]", package.id), ("metadata[payment]", payment.id),
            ("payment_intent_data[metadata][payment]", payment.id),
        ]
        if let expires { form.append(("expires_at", expires)) }
        return form
    }

    /// A return URL: the caller's, which must share the origin of `payments.success_url` (no
    /// open redirect through Stripe), or the configured one.
    static func returnURL(_ given: String?, parameter: String, configured: String?, origin: String?) throws -> String {
        guard let given else {
            guard let configured, !configured.isEmpty else {
                throw EngineError.invalid(parameter, "\(parameter) is required: payments.\(parameter) is not configured")
            }
            return configured
        }
        guard let url = URL(string: given), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
            url.host != nil
        else { throw EngineError.invalid(parameter, "\(parameter) must be an http or https URL") }
        guard let origin, let allowed = URL(string: origin), allowed.scheme?.lowercased() == scheme,
            allowed.host?.lowercased() == url.host?.lowercased(), allowed.port == url.port
        else {
            throw EngineError.invalid(parameter, "\(parameter) must share the origin of payments.success_url")
        }
        return given
    }

    // MARK: Events

    /// The webhook: verify the signature over the raw body, then record the event and apply it
    /// in one transaction before answering 200. Nothing is stored for a body that fails.
    public func webhook(body: [UInt8], signature: String?) async -> WebhookAnswer {
        let settings = settings()
        guard !settings.webhookSecrets.isEmpty else {
            return WebhookAnswer(status: 503, text: "no stripe-webhook-secret is configured")
        }
        do {
            try StripeSignature.verify(
                header: signature, body: body, secrets: settings.webhookSecrets, now: now(),
                tolerance: settings.toleranceSeconds)
        } catch {
            logger.warning("stripe webhook refused", metadata: ["reason": "\(error)", "bytes": "\(body.count)"])
            observer.metrics.increment(Metric.webhookEvents, ["unknown", "bad_signature"])
            return WebhookAnswer(status: 400, text: error.description)
        }
        guard let input = StripeEvents.input(body: body, source: "webhook") else {
            observer.metrics.increment(Metric.webhookEvents, ["unknown", "malformed"])
            return WebhookAnswer(status: 400, text: "the body is not a Stripe event")
        }
        do {
            let result = try await apply(input)
            observer.metrics.increment(
                Metric.webhookEvents, [Self.typeLabel(input.type), result.duplicate ? "duplicate" : result.outcome])
            return WebhookAnswer(status: 200, text: result.duplicate ? "duplicate" : result.outcome)
        } catch {
            observer.metrics.increment(Metric.webhookEvents, [Self.typeLabel(input.type), "error"])
            logger.error("stripe event not recorded", metadata: ["stripe_event": "\(input.id)", "error": "\(error)"])
            return WebhookAnswer(status: 500, text: "not recorded; Stripe will retry")
        }
    }

    func apply(_ input: StripeEventInput) async throws -> StripeEventResult {
        let result = try await repository.apply(input, now: now())
        if !result.duplicate, result.outcome == "applied", let payment = result.payment {
            await changed(payment: payment, credits: result.credits, type: input.type)
        }
        guard logger.logLevel <= .info || result.outcome == "mismatch" else { return result }
        var log = logger
        log[metadataKey: "stripe_event"] = "\(input.id)"
        if let payment = result.payment { log[metadataKey: "payment"] = "\(payment)" }
        if let user = result.user { log[metadataKey: "user"] = "\(user)" }
        let metadata: Logger.Metadata = [
            "type": "\(input.type)", "outcome": "\(result.outcome)", "credits": "\(result.credits)",
            "source": "\(input.source)",
        ]
        switch result.outcome {
        case "mismatch":
            log.warning("stripe payment does not match its price: no credits granted", metadata: metadata)
        case "unmatched" where input.fact.kind != .none:
            log.notice("stripe event for no payment of this daemon", metadata: metadata)
        case "duplicate":
            log.debug("stripe event already recorded", metadata: metadata)
        default:
            log.info("stripe event applied", metadata: metadata)
        }
        return result
    }

    /// The periodic reconciliation: run when this node holds the reconciler's lease (always on
    /// SQLite; on a shared PostgreSQL one node at a time, for two periods), nil when another
    /// node holds it. Applying is idempotent by event id either way; the lease saves Stripe the
    /// same listing from every node.
    public func reconcileIfLeader(every interval: Duration) async throws -> ReconcileReport? {
        guard try await repository.claimReconciler(for: max(60, interval.seconds * 2)) else { return nil }
        return try await reconcile()
    }

    /// `Payments.Reconcile`: the events Stripe has since `since` (default: five minutes before
    /// the newest one recorded, else the last 30 days), applied through the same path as the
    /// webhook, oldest first; then pending payments past their expiry expire.
    public func reconcile(since: Date? = nil) async throws -> ReconcileReport {
        let settings = settings()
        guard let secretKey = settings.secretKey, !secretKey.isEmpty else {
            throw Self.notConfigured
        }
        let now = now()
        let start: Int
        if let since {
            start = Int(since.timeIntervalSince1970)
        } else if let latest = try await repository.latestEventCreated() {
            start = latest - 300
        } else {
            start = Int(now.timeIntervalSince1970) - 30 * 86_400
        }
        let client = StripeClient(http: http, apiBase: settings.apiBase, apiVersion: settings.apiVersion, secretKey: secretKey)
        var listed: [(body: [UInt8], value: JSONValue)] = []
        var after: String?
        repeat {
            let page = try await client.listEvents(types: Self.eventTypes, createdAtLeast: start, startingAfter: after)
            listed += page.events
            after = page.hasMore ? page.events.last?.value["id"]?.stringValue : nil
        } while after != nil
        var applied = 0
        var already = 0
        for event in listed.reversed() {
            guard let input = StripeEvents.input(value: event.value, body: event.body, source: "reconcile") else { continue }
            if try await apply(input).duplicate { already += 1 } else { applied += 1 }
        }
        let expiredPayments = try await repository.expirePending(now: now)
        for payment in expiredPayments { published(payment, credits: 0) }
        let expired = expiredPayments.count
        let report = ReconcileReport(fetched: listed.count, applied: applied, alreadyApplied: already, expired: expired)
        logger.info(
            "stripe reconciled",
            metadata: ["fetched": "\(listed.count)", "applied": "\(applied)", "already_applied": "\(already)", "expired": "\(expired)"])
        return report
    }

    // MARK: Reading

    public func list(user: String?, status: String?, limit: Int, after: String?) async throws -> PaymentList {
        var filter: PaymentStatus?
        if let status {
            guard let known = PaymentStatus(rawValue: status) else {
                throw EngineError.invalid(
                    "status", "status must be one of \(PaymentStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter = known
        }
        guard (1...200).contains(limit) else { throw EngineError.invalid("limit", "limit must be 1 to 200") }
        return try await repository.list(user: user, status: filter, limit: limit, after: after)
    }

    /// A payment an event moved: its status goes out as `payment.<status>`, and a grant of a
    /// purchase counts as a paid checkout.
    private func changed(payment id: String, credits: Int, type: String) async {
        guard let detail = try? await repository.get(id, user: nil) else { return }
        let payment = detail.payment
        if payment.status == .paid, credits > 0, type.hasPrefix("checkout.session.") { observer.metrics.increment(Metric.checkoutPaid, [payment.package]) }
        published(payment, credits: credits)
    }

    /// `payment.<status>` for a payment whose status just moved.
    private func published(_ payment: Payment, credits: Int) {
        observer.events.publish(
            "payment.\(payment.status.rawValue)",
            [
                "payment": .string(payment.id), "user": .string(payment.user), "package": .string(payment.package),
                "credits": .int(Int64(credits)),
            ])
    }

    /// Stripe's event types the engine acts on keep their names as label values; others are `other`.
    static func typeLabel(_ type: String) -> String {
        eventTypes.contains(type) ? type : "other"
    }

    public func get(_ id: String, user: String?) async throws -> PaymentDetail {
        try await repository.get(id, user: user)
    }
}
