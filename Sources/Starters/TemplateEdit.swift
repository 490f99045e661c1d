import Foundation
import Protocol
import Generation

/// How the offline `template` provider edits an app it made: it reads the request a clause at a
/// time and applies what it understands — a new title, an accent colour, hiding or showing a
/// section of its starter (`data-starter-section`) — and says plainly which clauses it did not
/// understand. It edits only its own starters (`<meta name="generator" content="vectortd
/// starter">`); any other app is left alone, so a fallback to it can never replace an app.
enum TemplateEdit {
    static let generatorMarker = #"<meta name="generator" content="vectortd starter">"#

    /// The answer to an edit request: `<file>` blocks for the files it changed, then one
    /// sentence saying what it did and what it did not understand.
    static func answer(base: [ProjectFile], prompt: String) -> String {
        var files = Dictionary(base.map { ($0.path, $0.contents) }, uniquingKeysWith: { $1 })
        guard let index = files["index.html"], index.contains(generatorMarker), let styles = files["styles.css"],
            styles.contains("--accent:")
        else {
            return "The offline template provider only edits the starter apps it made; this version was written "
                + "by another provider, so nothing was changed.\n"
        }
        var done: [String] = []
        var notUnderstood: [String] = []
        for clause in clauses(prompt) {
            if let title = title(in: clause) {
                files = retitled(files, to: title)
                done.append("changed the title to \u{201C}\(title)\u{201D}")
            } else if let colour = colour(in: clause) {
                files["styles.css"] = recoloured(files["styles.css"] ?? "", colour)
                done.append("set the accent colour to \(colour.name)")
            } else if let (show, section) = sectionChange(in: clause, page: files["index.html"] ?? "") {
                let (page, changed) = setHidden(!show, section: section, in: files["index.html"] ?? "")
                files["index.html"] = page
                if changed {
                    done.append(show ? "showed the \(section) section again" : "hid the \(section) section")
                } else {
                    done.append("left the \(section) section as it was (already \(show ? "shown" : "hidden"))")
                }
            } else {
                notUnderstood.append(clause)
            }
        }
        var answer = ""
        for file in base where !file.isBinary && files[file.path] != file.contents {
            answer += "<file path=\"\(file.path)\">\n\(files[file.path] ?? "")</file>\n"
        }
        var sentence = done.isEmpty ? "I changed nothing" : "I " + done.joined(separator: "; ")
        if !notUnderstood.isEmpty {
            sentence += ". The offline template provider did not understand, so did not do: "
                + notUnderstood.map { "\u{201C}\($0)\u{201D}" }.joined(separator: ", ")
        }
        return answer + sentence + ".\n"
    }

    /// The request's clauses: split at sentence ends, semicolons, commas and "and"/"then".
    static func clauses(_ prompt: String) -> [String] {
        var clauses: [String] = []
        for sentence in prompt.split(whereSeparator: { ".;\n!,".contains($0) }) {
            var words: [Substring] = []
            for word in sentence.split(separator: " ") {
                if ["and", "then", "also", "please"].contains(word.lowercased()) {
                    if !words.isEmpty { clauses.append(words.joined(separator: " ")) }
                    words = []
                } else {
                    words.append(word)
                }
            }
            if !words.isEmpty { clauses.append(words.joined(separator: " ")) }
        }
        return clauses.filter { !$0.isEmpty }
    }

    // MARK: Title

    /// "rename it to X", "call it X", "change the title to X", "title: X".
    static func title(in clause: String) -> String? {
        let lowered = clause.lowercased()
        let openers = [
            "rename the app to ", "rename the site to ", "rename the page to ", "rename it to ", "rename to ",
            "call the app ", "call the site ", "call it ", "name it ", "change the title to ", "change the name to ",
            "set the title to ", "make the title ", "title it ", "title: ", "retitle it ", "retitle to ",
        ]
        for opener in openers {
            guard let range = lowered.range(of: opener) else { continue }
            let offset = lowered.distance(from: lowered.startIndex, to: range.upperBound)
            var title = String(clause.dropFirst(offset)).trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'\u{201C}\u{201D}`"))
            if title.count > 80 { title = String(title.prefix(80)) }
            return title.isEmpty ? nil : title
        }
        return nil
    }

    static func retitled(_ files: [String: String], to title: String) -> [String: String] {
        var files = files
        guard let page = files["index.html"], let old = between(page, "<title>", "</title>") else { return files }
        let oldText = unescapeHTML(old)
        files["index.html"] = page.replacingAll(old, with: StarterEscaping.html(title))
        if let readme = files["README.md"] {
            files["README.md"] = readme.replacingAll(StarterEscaping.markdown(oldText), with: StarterEscaping.markdown(title))
        }
        if let script = files["app.js"] {
            files["app.js"] = script.replacingAll(
                StarterEscaping.jsonStringContents(oldText), with: StarterEscaping.jsonStringContents(title))
        }
        return files
    }

    // MARK: Colour

    struct Colour {
        var name: String
        var light: String
        var dark: String
    }

    static let colours: [Colour] = [
        Colour(name: "red", light: "#dc2626", dark: "#f87171"),
        Colour(name: "orange", light: "#ea580c", dark: "#fb923c"),
        Colour(name: "amber", light: "#b45309", dark: "#fbbf24"),
        Colour(name: "yellow", light: "#a16207", dark: "#facc15"),
        Colour(name: "green", light: "#16a34a", dark: "#4ade80"),
        Colour(name: "teal", light: "#0d9488", dark: "#2dd4bf"),
        Colour(name: "blue", light: "#2563eb", dark: "#60a5fa"),
        Colour(name: "indigo", light: "#4f46e5", dark: "#818cf8"),
        Colour(name: "purple", light: "#9333ea", dark: "#c084fc"),
        Colour(name: "pink", light: "#db2777", dark: "#f472b6"),
        Colour(name: "grey", light: "#4b5563", dark: "#9ca3af"),
    ]

    static func colour(in clause: String) -> Colour? {
        let words = Set(clause.lowercased().split { !$0.isLetter }.map(String.init))
        let aliases = ["gray": "grey", "violet": "purple", "cyan": "teal", "navy": "blue", "crimson": "red"]
        for word in words {
            let name = aliases[word] ?? word
            if let colour = colours.first(where: { $0.name == name }) { return colour }
        }
        return nil
    }

    /// The stylesheet with `--accent` set: the first declaration (the light theme) and the
    /// second (the dark theme).
    static func recoloured(_ styles: String, _ colour: Colour) -> String {
        var lines = styles.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var seen = 0
        for (index, line) in lines.enumerated() where line.trimmingCharacters(in: .whitespaces).hasPrefix("--accent:") {
            let indent = line.prefix { $0 == " " }
            lines[index] = indent + "--accent: " + (seen == 0 ? colour.light : colour.dark) + ";"
            seen += 1
        }
        return lines.joined(separator: "\n")
    }

    // MARK: Sections

    static let sectionAliases: [String: String] = [
        "faq": "questions", "faqs": "questions", "question": "questions", "signup": "signup", "sign-up": "signup",
        "newsletter": "signup", "subscribe": "signup", "banner": "hero", "feature": "features", "stat": "stats",
        "figures": "stats", "chart": "trend", "graph": "trend", "table": "activity", "search": "controls",
        "filters": "controls", "filter": "controls", "product": "products", "task": "tasks", "introduction": "intro",
    ]

    /// ("remove/hide the X section" → hide X) or ("add/show the X section" → show X), for a
    /// section the page has.
    static func sectionChange(in clause: String, page: String) -> (show: Bool, section: String)? {
        let words = clause.lowercased().split { !$0.isLetter && $0 != "-" }.map(String.init)
        guard let verb = words.first(where: { hideVerbs.contains($0) || showVerbs.contains($0) }) else { return nil }
        for word in words {
            let name = sectionAliases[word] ?? word
            if page.contains("data-starter-section=\"\(name)\"") { return (showVerbs.contains(verb), name) }
        }
        return nil
    }

    static let hideVerbs: Set<String> = ["remove", "hide", "drop", "delete", "omit"]
    static let showVerbs: Set<String> = ["add", "show", "restore", "unhide", "include"]

    /// The page with the section's opening tag carrying `hidden` or not; whether it changed.
    static func setHidden(_ hidden: Bool, section: String, in page: String) -> (String, Bool) {
        let marker = "data-starter-section=\"\(section)\""
        guard let at = page.range(of: marker), let close = page[at.upperBound...].firstIndex(of: ">") else {
            return (page, false)
        }
        let rest = page[at.upperBound..<close]
        let isHidden = rest.contains(" hidden")
        guard isHidden != hidden else { return (page, false) }
        var page = page
        if hidden {
            page.replaceSubrange(at, with: marker + " hidden")
        } else if let flag = page[at.upperBound..<close].range(of: " hidden") {
            page.removeSubrange(flag)
        }
        return (page, true)
    }

    // MARK: Text

    static func between(_ text: String, _ open: String, _ close: String) -> String? {
        guard let start = text.range(of: open), let end = text[start.upperBound...].range(of: close) else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }

    static func unescapeHTML(_ text: String) -> String {
        text.replacingAll("&lt;", with: "<").replacingAll("&gt;", with: ">").replacingAll("&quot;", with: "\"")
            .replacingAll("&#39;", with: "'").replacingAll("&amp;", with: "&")
    }
}

extension String {
    /// Every occurrence of `target` replaced, scanning left to right.
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
