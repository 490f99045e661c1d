public import Protocol
public import Generation

/// The built-in offline provider: picks one of the starter apps (`StarterTemplates`) for the
/// brief and streams its files as `<file path="…">` blocks, so a fresh install without any API
/// key still generates a working app. It needs no network, never fails and never truncates;
/// the same request always gives the same answer.
public struct TemplateProvider: LLMProvider {
    public let name: String
    public let kind = ProviderKind.template
    public let model = "starter-v1"
    /// The answer is streamed in text events of about this many UTF-8 bytes.
    public let chunkBytes: Int

    public init(name: String = "template", chunkBytes: Int = 2048) {
        self.name = name
        self.chunkBytes = max(1, chunkBytes)
    }

    /// The starter picked for the brief (its name, e.g. "shop") and its files.
    public static func files(for brief: AppBrief, type: String? = nil) -> (template: String, files: [ProjectFile]) {
        let kind = StarterTemplates.pick(for: brief, type: type)
        return (kind.rawValue, StarterTemplates.files(kind, for: brief))
    }

    /// `generate` and `repair` stream the whole app; `plan` a short plan naming the files;
    /// `continue` only `finished`, since an answer from here is never cut. An edit (a request
    /// with `base`) is answered by `TemplateEdit`.
    public func stream(_ request: CompletionRequest) -> AsyncThrowingStream<CompletionEvent, any Error> {
        let brief = Self.brief(of: request)
        let text: String
        switch (request.purpose, request.base) {
        case (.generate, let base?):
            text = TemplateEdit.answer(base: base, prompt: brief.prompt)
        case (.generate, nil), (.repair, nil):
            text = Self.fileBlocks(Self.files(for: brief, type: brief.type).files)
        case (.plan, let base?):
            text = "Plan: apply what the offline template provider understands of the request to the \(base.count) files.\n"
        case (.plan, nil):
            text = Self.plan(for: brief)
        case (.continue, _), (.repair, _?):
            // Never cut off; its edits are valid by construction, so a repair has nothing to add.
            text = ""
        }
        let inputCharacters = request.system.count + request.messages.reduce(0) { $0 + $1.text.count }
        let usage = TokenUsage(inputTokens: Self.tokens(inputCharacters), outputTokens: Self.tokens(text.count))
        let chunks = Self.chunks(of: text, maxBytes: chunkBytes)
        return AsyncThrowingStream { continuation in
            for chunk in chunks { continuation.yield(.text(chunk)) }
            continuation.yield(.finished(.stop, usage))
            continuation.finish()
        }
    }

    /// The request's brief; without one, the last user message is the prompt and the title is
    /// "My App".
    static func brief(of request: CompletionRequest) -> AppBrief {
        if let brief = request.brief { return brief }
        let prompt = request.messages.last { $0.role == .user }?.text ?? ""
        return AppBrief(prompt: prompt, title: StarterCopy.defaultTitle)
    }

    /// The files in the output format the parser reads: `<file path="PATH">\nCONTENTS</file>\n`,
    /// contents ending with a newline.
    static func fileBlocks(_ files: [ProjectFile]) -> String {
        var text = ""
        for file in files {
            text += "<file path=\"\(file.path)\">\n"
            text += file.contents
            if !file.contents.hasSuffix("\n") { text += "\n" }
            text += "</file>\n"
        }
        return text
    }

    static func plan(for brief: AppBrief) -> String {
        let kind = StarterTemplates.pick(for: brief, type: brief.type)
        let copy = StarterCopy(brief: brief)
        return """
            Plan: build \(kind.summary), about \(copy.subject), as static files that open directly \
            in a browser with no build step and no network.

            Files:
            - index.html: the page: header, main content and footer; loads styles.css and app.js.
            - styles.css: light and dark themes, responsive layout.
            - app.js: \(kind.behaviour)
            - README.md: what the app does, how to run it, where to change things.
            - package.json: the package name and a start script for a static server.

            """
    }

    /// Whole characters per chunk, so that no chunk splits a character (or a UTF-8 sequence).
    static func chunks(of text: String, maxBytes: Int) -> [String] {
        var chunks: [String] = []
        var start = text.startIndex
        var bytes = 0
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            let size = text.utf8.distance(from: index, to: next)
            if bytes > 0 && bytes + size > maxBytes {
                chunks.append(String(text[start..<index]))
                start = index
                bytes = 0
            }
            bytes += size
            index = next
        }
        if start < text.endIndex { chunks.append(String(text[start...])) }
        return chunks
    }

    /// About four characters a token, rounded up.
    static func tokens(_ characters: Int) -> Int {
        (characters + 3) / 4
    }
}

extension StarterKind {
    /// What the starter is, for the plan.
    var summary: String {
        switch self {
        case .landing: return "a one-page landing site with features, questions and an e-mail sign-up"
        case .todo: return "a task list that adds, edits, completes, filters and deletes tasks"
        case .blog: return "a blog with a post list, a page per post, tag pages and an about page"
        case .shop: return "a shop catalogue with a product grid, search, category filter and a cart"
        case .dashboard: return "a dashboard with stat cards, a line chart and an activity table"
        }
    }

    /// What the starter's `app.js` does, for the plan.
    var behaviour: String {
        switch self {
        case .landing: return "renders the feature cards and questions; checks and stores sign-ups in localStorage."
        case .todo: return "task list state kept in localStorage; add, edit in place, tick, filter, delete."
        case .blog: return "the posts as data and hash routing (#/, #/post/<slug>, #/tag/<tag>, #/about)."
        case .shop: return "renders products; search, filter and sort; cart with quantities kept in localStorage."
        case .dashboard: return "seeded sample data; stat cards, an inline SVG line chart and a sortable table."
        }
    }
}
