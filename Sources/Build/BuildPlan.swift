public import Protocol

/// What a version is, as far as building goes, read from its files before esbuild runs.
///
/// - A bundled app: a page (`index.html`, or `public/index.html` in the Create React App shape)
///   with exactly one local module script, the entry (CRA: `src/index.*`, which the page does
///   not name). Local stylesheet links become CSS entries; `public/**` is copied to the root.
/// - A static site: a page with classic scripts only. Its files are the site as they are;
///   esbuild still reads each script and stylesheet for syntax.
/// - Anything else (no page, an inline or second module script, a server framework) is an
///   `entry_point` issue.
struct BuildPlan: Equatable {
    enum Kind: Equatable {
        case bundle(entry: String)
        case staticSite
    }

    var kind: Kind
    /// The page's path in the version.
    var page: String
    /// Local stylesheets the page links, as project paths.
    var stylesheets: [String]

    enum Made: Equatable {
        case plan(BuildPlan)
        case issues([GenerationIssue])
    }

    static let serverFrameworks = ["next", "nuxt", "@remix-run/react", "@sveltejs/kit", "gatsby", "astro"]

    static func make(_ files: [ProjectFile]) -> Made {
        let byPath = Dictionary(files.map { ($0.path, $0) }, uniquingKeysWith: { $1 })
        func issue(_ path: String?, _ message: String, line: Int? = nil) -> Made {
            .issues([GenerationIssue(path: path, rule: "entry_point", message: message, line: line)])
        }
        if let package = byPath["package.json"], let framework = serverFrameworks.first(where: {
            package.contents.contains("\"\($0)\"")
        }) {
            return issue(
                "package.json",
                "unsupported framework (\(framework)): the platform builds static sites and client-side React (Vite) apps")
        }
        let page = byPath["index.html"] != nil ? "index.html" : (byPath["public/index.html"] != nil ? "public/index.html" : nil)
        guard let page, let pageFile = byPath[page], !pageFile.isBinary else {
            return issue("index.html", "no index.html: a site needs one at the project root (or public/index.html)")
        }
        let html = HTMLPage(pageFile.contents)
        let directory = parent(page)
        var modules: [(tag: HTMLPage.Tag, path: String)] = []
        for tag in html.tags where tag.isModuleScript {
            guard let src = tag.attributes["src"], !src.isEmpty else {
                if tag.hasInlineCode {
                    return issue(page, "an inline module script cannot be built; move it to a file such as src/main.jsx", line: tag.line)
                }
                continue
            }
            guard let local = localPath(src, from: directory) else { continue }
            modules.append((tag, local))
        }
        guard modules.count <= 1 else {
            return issue(page, "the page has \(modules.count) module scripts; a built app has exactly one entry", line: modules[1].tag.line)
        }
        let stylesheets = html.tags.filter(\.isStylesheet).compactMap { $0.attributes["href"].flatMap { localPath($0, from: directory) } }
            .filter { byPath[$0] != nil }
        if let module = modules.first {
            guard byPath[module.path] != nil else {
                return issue(page, "the module script \(module.path) is not a file of the project", line: module.tag.line)
            }
            return .plan(BuildPlan(kind: .bundle(entry: module.path), page: page, stylesheets: stylesheets))
        }
        if page == "public/index.html" {
            let candidates = ["src/index.jsx", "src/index.js", "src/index.tsx", "src/index.ts", "src/main.jsx", "src/main.tsx"]
            guard let entry = candidates.first(where: { byPath[$0] != nil }) else {
                return issue(page, "public/index.html names no module script and there is no src/index.js(x) to start from")
            }
            return .plan(BuildPlan(kind: .bundle(entry: entry), page: page, stylesheets: stylesheets))
        }
        return .plan(BuildPlan(kind: .staticSite, page: page, stylesheets: stylesheets))
    }

    /// A local reference of the page as a project path: root-relative (`/src/main.jsx`, as Vite
    /// reads it) or relative to the page; nil for URLs with a scheme or `//`.
    static func localPath(_ reference: String, from directory: String) -> String? {
        var value = reference
        if let cut = value.firstIndex(where: { $0 == "?" || $0 == "#" }) { value = String(value[..<cut]) }
        guard !value.isEmpty, !value.hasPrefix("//"), !value.contains(":") else { return nil }
        var components: [Substring] = value.hasPrefix("/") ? [] : directory.split(separator: "/")
        for component in value.split(separator: "/") {
            if component == "." { continue }
            if component == ".." {
                guard !components.isEmpty else { return nil }
                components.removeLast()
            } else {
                components.append(component)
            }
        }
        return components.joined(separator: "/")
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    static func fileExtension(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return name[name.index(after: dot)...].lowercased()
    }
}
