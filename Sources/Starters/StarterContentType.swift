import Mustache

/// How `{{value}}` is escaped in a starter template: chosen by the template's file extension,
/// so a value is escaped for the language it lands in. JavaScript, JSON and CSS values are
/// escaped for the inside of a double-quoted string; the template writes the quotes
/// (`title: "{{title}}"`). Mustache's own HTML escaping is not used: it compares whole
/// characters, so a quote followed by a combining mark would pass through unescaped.
struct StarterContentType: MustacheContentType {
    /// The name the template's `CONTENT_TYPE` pragma gives.
    let name: String
    private let escape: @Sendable (String) -> String

    func escapeText(_ text: String) -> String {
        escape(text)
    }

    static let html = StarterContentType(name: "vectortd.starter.html", escape: StarterEscaping.html)
    static let javaScript = StarterContentType(
        name: "vectortd.starter.js-string", escape: StarterEscaping.jsonStringContents)
    static let css = StarterContentType(name: "vectortd.starter.css-string", escape: StarterEscaping.cssStringContents)
    static let markdown = StarterContentType(name: "vectortd.starter.markdown", escape: StarterEscaping.markdown)

    /// The content type of a template file by its extension; nil for an extension no starter uses.
    static func forFile(_ path: String) -> StarterContentType? {
        let suffix = path.split(separator: ".").last.map { $0.lowercased() }
        switch suffix {
        case "html": return html
        case "js", "json": return javaScript
        case "css": return css
        case "md": return markdown
        default: return nil
        }
    }

    /// Registers the content types under their names, for the pragma to find (Mustache keeps one
    /// process-wide table).
    static func registerAll() {
        for type in [html, javaScript, css, markdown] {
            MustacheContentTypes.register(type, named: type.name)
        }
    }
}
