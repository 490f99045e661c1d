import ArgumentParser
import Protocol

/// `--limit`, `--after` and `--all` of the paginated list commands.
struct PageOptions: ParsableArguments {
    @Option(name: .long, help: "Entries per page, 1 to 500 (default 50).")
    var limit: Int?

    @Option(name: .long, help: "Start after this id (the next_after of the previous page).")
    var after: String?

    @Flag(name: .long, help: "Follow next_after to the last page and print every entry.")
    var all = false

    func validate() throws {
        if let limit, !(1...500).contains(limit) { throw ValidationError("--limit must be 1 to 500") }
    }

    /// One page, or with `--all` every page from `--after` on, merged into the first.
    func fetch<Page>(
        _ parameters: [String: JSONValue], call: ([String: JSONValue]) throws -> Page,
        next: (Page) -> String?, merge: (inout Page, Page) -> Void
    ) throws -> Page {
        var request = parameters
        if let limit { request["limit"] = .int(Int64(limit)) }
        if let after { request["after"] = .string(after) }
        var result = try call(request)
        guard all else { return result }
        var cursor = next(result)
        while let after = cursor, request["after"] != .string(after) {
            request["after"] = .string(after)
            let page = try call(request)
            merge(&result, page)
            cursor = next(page)
        }
        return result
    }
}

extension Output {
    /// The lines of a page's table, then, when it is not the last page, how to get the next.
    static func page(_ table: String, nextAfter: String?) -> String {
        lines([table] + (nextAfter.map { ["more: --after \($0) (or --all)"] } ?? []))
    }
}
