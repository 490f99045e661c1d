import Protocol

/// Resolves the local references of generated pages against the generated paths (module
/// imports and stylesheet `@import`s are the build's to resolve).
///
/// - HTML `<script src>` and `<link rel="stylesheet|modulepreload|preload" href>`: relative to the
///   document; `/x` from the project root. Icons and other link kinds are not checked.
/// - Root-relative references may also name a file under `public/` (Vite's static directory).
/// - URLs with a scheme (`http:`, `data:`, `mailto:`…), protocol-relative `//…`, fragments `#…`
///   and template placeholders (`%PUBLIC_URL%`, `{{…}}`, `${…}`) are ignored; `?query` and
///   `#hash` suffixes are dropped before resolving.
struct ImportResolver {
    struct Reference: Sendable, Equatable {
        enum Kind: Sendable, Equatable {
            case scriptSource, linkHref
        }

        var specifier: String
        var line: Int
        var kind: Kind
    }

    enum Resolution: Sendable, Equatable {
        case ignored
        case found(String)
        case missing(String)
        case outside
    }

    let paths: Set<String>
    private let byLowercase: [String: String]

    init(paths: Set<String>) {
        self.paths = paths
        var byLowercase: [String: String] = [:]
        for path in paths.sorted() { byLowercase[path.lowercased()] = byLowercase[path.lowercased()] ?? path }
        self.byLowercase = byLowercase
    }

    func check(_ reference: Reference, from importer: String) -> [ValidationIssue] {
        let what: String
        switch reference.kind {
        case .scriptSource: what = "<script src=\"\(reference.specifier)\">"
        case .linkHref: what = "<link href=\"\(reference.specifier)\">"
        }
        let message: String
        switch resolve(reference, from: importer) {
        case .ignored, .found:
            return []
        case .outside:
            message = "\(what) points outside the project"
        case .missing(let target):
            var text = "\(what) matches no generated file"
            if let near = candidates(for: target, reference: reference).lazy.compactMap({ byLowercase[$0.lowercased()] }).first {
                text += " (did you mean \(near)? letter case differs)"
            } else {
                text += " (looked for \(target))"
            }
            message = text
        }
        return [ValidationIssue(path: importer, rule: Validators.Rule.importResolution, message: message, line: reference.line)]
    }

    func resolve(_ reference: Reference, from importer: String) -> Resolution {
        var specifier = Substring(reference.specifier).drop(while: \.isWhitespace)
        while specifier.last?.isWhitespace == true { specifier = specifier.dropLast() }
        guard !specifier.isEmpty, !Self.isExternal(specifier) else { return .ignored }
        if let cut = specifier.firstIndex(where: { $0 == "?" || $0 == "#" }) { specifier = specifier[..<cut] }
        guard !specifier.isEmpty else { return .ignored }

        let rootRelative = specifier.hasPrefix("/")

        var segments: [Substring] = rootRelative ? [] : importer.split(separator: "/").dropLast()
        for segment in specifier.split(separator: "/") {
            switch segment {
            case ".": continue
            case "..":
                guard !segments.isEmpty else { return .outside }
                segments.removeLast()
            default: segments.append(segment)
            }
        }
        let target = segments.joined(separator: "/")
        guard !target.isEmpty else { return .ignored }
        if let found = candidates(for: target, reference: reference).first(where: paths.contains) {
            return .found(found)
        }
        return .missing(target)
    }

    private func candidates(for target: String, reference: Reference) -> [String] {
        var candidates = [target]
        if reference.specifier.trimmingPrefix(while: \.isWhitespace).hasPrefix("/") {
            candidates += candidates.map { "public/" + $0 }
        }
        return candidates
    }

    /// A URL with a scheme, protocol-relative, a fragment, or a template placeholder.
    static func isExternal(_ specifier: Substring) -> Bool {
        if specifier.hasPrefix("//") || specifier.hasPrefix("#") { return true }
        if ["%", "{{", "${", "<%"].contains(where: { specifier.contains($0) }) { return true }
        guard let colon = specifier.firstIndex(of: ":"), let first = specifier.first, first.isLetter else { return false }
        return specifier[..<colon].allSatisfy { $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }
    }
}
