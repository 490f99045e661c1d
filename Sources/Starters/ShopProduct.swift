/// A sample product of the shop starter, named after the brief's subject.
struct ShopProduct {
    var id: Int
    var name: String
    var category: String
    var summary: String
    /// In cents.
    var price: Int

    static func samples(_ copy: StarterCopy) -> [ShopProduct] {
        let item = copy.subject == StarterCopy.defaultSubject ? "Product" : copy.subjectTitle
        let lower = copy.subject == StarterCopy.defaultSubject ? "product" : copy.subject
        let products = [
            ("Classic \(item)", "Essentials", "Our best seller: the \(lower) that started it all."),
            ("Deluxe \(item)", "Premium", "Finer materials and extra care in every detail."),
            ("\(item) Starter Kit", "Essentials", "Everything you need to get going, in one box."),
            ("\(item) Gift Set", "Gifts", "Wrapped and ready to give, with a handwritten card."),
            ("Limited Edition \(item)", "Premium", "A small seasonal batch. When it is gone, it is gone."),
            ("Mini \(item) Sampler", "Gifts", "Try a little of everything before you choose."),
            ("Everyday \(item)", "Essentials", "Simple, reliable and fairly priced."),
            ("\(item) Subscription", "Premium", "A fresh delivery every month. Pause any time."),
        ]
        return products.enumerated().map { index, product in
            ShopProduct(
                id: index + 1, name: product.0, category: product.1, summary: product.2,
                price: price(named: product.0, seed: copy.seed))
        }
    }

    /// A price in cents between 6.00 and 59.00 ending in .00 or .50, fixed by the seed and name.
    static func price(named name: String, seed: UInt32) -> Int {
        let hash = StarterCopy.stableHash(String(seed) + name)
        return 600 + Int(hash % 107) * 50
    }
}
