import Protocol

extension Money {
    /// `$20.00` for people; amounts are in minor units of the currency.
    var display: String {
        let sign = amountMinor < 0 ? "-" : ""
        let magnitude = amountMinor.magnitude
        let cents = magnitude % 100 < 10 ? "0\(magnitude % 100)" : "\(magnitude % 100)"
        let number = "\(magnitude / 100).\(cents)"
        switch currency.lowercased() {
        case "usd": return "\(sign)$\(number)"
        case "eur": return "\(sign)€\(number)"
        case "gbp": return "\(sign)£\(number)"
        default: return "\(sign)\(number) \(currency.uppercased())"
        }
    }
}
