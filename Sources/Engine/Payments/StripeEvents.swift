import Foundation
import Protocol
import Storage

/// Reads a Stripe event (API v1 snapshot) into what vectortd records and what it means for a
/// payment. Unknown types are kept with no effect.
enum StripeEvents {
    static func input(body: [UInt8], source: String) -> StripeEventInput? {
        guard let value = JSONValue.parse(body) ?? (try? JSONDecoder().decode(JSONValue.self, from: Data(body))) else {
            return nil
        }
        return input(value: value, body: body, source: source)
    }

    static func input(value: JSONValue, body: [UInt8], source: String) -> StripeEventInput? {
        guard let id = value["id"]?.stringValue, !id.isEmpty, let type = value["type"]?.stringValue,
            let created = value["created"]?.intValue
        else { return nil }
        let object = value["data"]?["object"] ?? .null
        return StripeEventInput(
            id: id, type: type, created: Int(created), source: source, body: body, fact: fact(type: type, object: object))
    }

    static func fact(type: String, object: JSONValue) -> StripeFact {
        let payment = object["metadata"]?["payment"]?.stringValue
        // `payment_intent` is an id, or the object when expanded.
        let intent = object["payment_intent"]?.stringValue ?? object["payment_intent"]?["id"]?.stringValue
        let amount = object["amount_total"]?.intValue.map(Int.init)
        let currency = object["currency"]?.stringValue
        switch type {
        case "checkout.session.completed", "checkout.session.async_payment_succeeded":
            let paid = object["payment_status"]?.stringValue == "paid"
            return StripeFact(
                paid ? .paid : .awaitingPayment, payment: payment, session: object["id"]?.stringValue,
                paymentIntent: intent, amount: amount, currency: currency)
        case "checkout.session.async_payment_failed":
            return StripeFact(.failed, payment: payment, session: object["id"]?.stringValue, paymentIntent: intent)
        case "checkout.session.expired":
            return StripeFact(.expired, payment: payment, session: object["id"]?.stringValue, paymentIntent: intent)
        case "charge.refunded":
            return StripeFact(
                .refunded, payment: payment, paymentIntent: intent,
                amount: object["amount_refunded"]?.intValue.map(Int.init), currency: currency)
        case "charge.dispute.created":
            return StripeFact(.disputeOpened, payment: payment, paymentIntent: intent)
        case "charge.dispute.closed":
            switch object["status"]?.stringValue {
            case "won", "warning_closed": return StripeFact(.disputeWon, payment: payment, paymentIntent: intent)
            case "lost": return StripeFact(.disputeLost, payment: payment, paymentIntent: intent)
            default: return StripeFact(.none)
            }
        default:
            return StripeFact(.none)
        }
    }
}
