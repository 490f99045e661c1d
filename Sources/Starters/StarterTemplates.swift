public import Protocol
import VectortCore
public import Generation

/// The starter apps the offline `template` provider builds. Each is static files that render
/// straight from disk or any static host: no build step, no network, no external fonts.
public enum StarterKind: String, Sendable, Equatable, CaseIterable {
    case landing, todo, blog, shop, dashboard
}

/// Picks a starter app for a brief and fills it with the brief's words.
public enum StarterTemplates {
    /// The starter that fits the brief. An explicit project `type` naming a starter wins;
    /// otherwise keywords are scored (the prompt counts twice, a `type` three times, title and
    /// description once) and ties go to the more specific app; no keyword at all gives `landing`.
    public static func pick(for brief: AppBrief, type: String? = nil) -> StarterKind {
        if let type, let named = kind(named: type) { return named }
        var scores: [StarterKind: Int] = [:]
        func score(_ text: String?, weight: Int) {
            guard let text else { return }
            for word in StarterCopy.words(text) {
                for token in tokens(of: word) {
                    if let kind = keywords[token] { scores[kind, default: 0] += weight }
                }
            }
        }
        score(brief.prompt, weight: 2)
        score(brief.title, weight: 1)
        score(brief.description, weight: 1)
        score(type, weight: 3)
        var best = StarterKind.landing
        var bestScore = 0
        for kind in tieBreakOrder where scores[kind, default: 0] > bestScore {
            best = kind
            bestScore = scores[kind, default: 0]
        }
        return best
    }

    /// The files of the starter, filled from the brief (see `StarterLibrary`).
    public static func files(_ kind: StarterKind, for brief: AppBrief) -> [ProjectFile] {
        StarterLibrary.files(kind, values: StarterValues(kind, copy: StarterCopy(brief: brief)))
    }

    /// The starter a project type names ("shop", "e-commerce", "Todo", "landing page", ...), if any.
    public static func kind(named type: String) -> StarterKind? {
        let name = StarterCopy.words(type).map { $0.lowercased() }.joined(separator: "-")
        if let kind = StarterKind(rawValue: name) { return kind }
        return aliases[name]
    }

    static func isKeyword(_ word: String) -> Bool {
        tokens(of: word.lowercased()).contains { keywords[$0] != nil }
    }

    /// A lower-cased word and, when hyphenated, its parts: "e-commerce" scores as itself,
    /// "admin-panel" as "admin".
    private static func tokens(of word: String) -> [String] {
        let word = word.lowercased()
        let parts = word.split(separator: "-").map(String.init)
        return parts.count > 1 ? [word] + parts : [word]
    }

    private static let tieBreakOrder: [StarterKind] = [.shop, .dashboard, .blog, .todo, .landing]

    private static let aliases: [String: StarterKind] = [
        "landing-page": .landing, "homepage": .landing, "marketing": .landing, "website": .landing,
        "to-do": .todo, "todos": .todo, "crud": .todo, "tasks": .todo, "task-list": .todo, "notes": .todo,
        "blog": .blog, "journal": .blog, "articles": .blog,
        "store": .shop, "e-commerce": .shop, "ecommerce": .shop, "catalog": .shop, "catalogue": .shop,
        "online-store": .shop,
        "admin": .dashboard, "analytics": .dashboard, "admin-panel": .dashboard, "admin-dashboard": .dashboard,
    ]

    private static let keywords: [String: StarterKind] = {
        let table: [StarterKind: [String]] = [
            .shop: [
                "shop", "shops", "shopping", "store", "stores", "storefront", "e-commerce", "ecommerce", "commerce",
                "product", "products", "catalog", "catalogue", "cart", "checkout", "merch", "merchandise",
                "boutique", "marketplace",
            ],
            .todo: [
                "todo", "todos", "to-do", "task", "tasks", "crud", "list", "lists", "tracker", "trackers", "track",
                "tracking", "notes", "note", "checklist", "checklists", "reminder", "reminders", "planner",
                "kanban", "inventory",
            ],
            .blog: [
                "blog", "blogs", "blogging", "article", "articles", "post", "posts", "journal", "journals", "diary",
                "newsletter", "stories", "magazine", "essays",
            ],
            .dashboard: [
                "dashboard", "dashboards", "analytics", "admin", "metrics", "metric", "chart", "charts", "stats",
                "statistics", "kpi", "kpis", "report", "reports", "reporting", "graph", "graphs", "insights",
            ],
            .landing: [
                "landing", "homepage", "portfolio", "marketing", "launch", "waitlist", "startup", "saas",
            ],
        ]
        var keywords: [String: StarterKind] = [:]
        for (kind, words) in table {
            for word in words { keywords[word] = kind }
        }
        return keywords
    }()
}
