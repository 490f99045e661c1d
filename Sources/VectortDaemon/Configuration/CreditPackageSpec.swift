import Protocol

/// `credits.packages` entries: `id:credits:price_minor[:currency]`, e.g. `starter:80:2000:usd`.
enum CreditPackageSpec {
    static func parse(_ text: String, key: String) throws -> CreditPackage {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (3...4).contains(parts.count), !parts[0].isEmpty, let credits = Int(parts[1]), credits > 0,
            let price = Int(parts[2]), price > 0
        else {
            throw ConfigurationError(
                key: key, problem: "\"\(text)\" is not id:credits:price_minor[:currency] with positive numbers")
        }
        let currency = parts.count == 4 ? parts[3].lowercased() : "usd"
        guard currency.count == 3, currency.allSatisfy({ $0.isLetter }) else {
            throw ConfigurationError(key: key, problem: "\"\(currency)\" is not a three-letter currency code")
        }
        return CreditPackage(id: parts[0], credits: credits, price: Money(amountMinor: price, currency: currency))
    }
}
