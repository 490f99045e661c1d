/// What the starter templates are filled with. Mustache finds a value by its property name
/// (`{{subjectTitle}}`, `{{#posts}}…{{/posts}}`); every string is plain text, escaped by the
/// template's content type (`StarterContentType`).
struct StarterValues {
    var title: String
    var description: String
    var subject: String
    var subjectTitle: String
    var slug: String
    var seed: UInt32
    /// False when the brief names no subject: the templates then use their generic copy.
    var hasSubject: Bool
    /// The blog's posts; empty for the other starters.
    var posts: [BlogPost]
    /// The shop's products; empty for the other starters.
    var products: [ShopProduct]

    init(_ kind: StarterKind, copy: StarterCopy) {
        title = copy.title
        description = copy.description
        subject = copy.subject
        subjectTitle = copy.subjectTitle
        slug = copy.slug
        seed = copy.seed
        hasSubject = copy.subject != StarterCopy.defaultSubject
        posts = kind == .blog ? BlogPost.samples(copy) : []
        products = kind == .shop ? ShopProduct.samples(copy) : []
    }
}
