import Foundation
import VectortCore
import Generation

/// The words a starter app is filled with, derived once from the brief. Values here are plain
/// text; each template escapes them for the context it writes them into.
struct StarterCopy: Sendable, Equatable {
    /// The project title on one line ("My App" when the brief has none).
    var title: String
    /// One or two sentences: the brief's description, else the prompt as a sentence.
    var description: String
    /// What the app is about, for mid-sentence use ("handmade soap").
    var subject: String
    /// The subject for headings ("Handmade Soap").
    var subjectTitle: String
    /// The package name: lower-case ASCII letters, digits and hyphens.
    var slug: String
    /// Seeds the sample numbers (prices, chart data); the same brief gives the same seed.
    var seed: UInt32

    static let defaultTitle = "My App"
    static let defaultSubject = "your project"

    init(brief: AppBrief) {
        let title = Self.oneLine(brief.title, limit: 120)
        self.title = title.isEmpty ? Self.defaultTitle : title

        let prompt = Self.oneLine(brief.prompt, limit: 400)
        let description = Self.oneLine(brief.description ?? "", limit: 400)
        if !description.isEmpty {
            self.description = description
        } else if !prompt.isEmpty {
            self.description = Self.sentence(from: prompt, limit: 200)
        } else {
            self.description = "A starter app for \(self.title)."
        }

        let subjectWords =
            Self.subjectWords(in: prompt).nonEmpty
            ?? Self.subjectWords(in: description).nonEmpty
            ?? Self.subjectWords(in: self.title).nonEmpty
            ?? []
        if subjectWords.isEmpty {
            subject = Self.defaultSubject
            subjectTitle = "Your Project"
        } else {
            subject = subjectWords.map(Self.midSentence).joined(separator: " ")
            subjectTitle = subjectWords.map(Self.capitalized).joined(separator: " ")
        }

        slug = Self.slug(self.title)
        seed = Self.stableHash(self.title + "\u{0}" + prompt + "\u{0}" + description)
    }

    // MARK: Words

    /// Words of the text: runs of letters and digits, keeping inner hyphens and apostrophes.
    static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        func flush() {
            while let last = current.last, !(last.isLetter || last.isNumber) { current.removeLast() }
            if !current.isEmpty { words.append(current) }
            current = ""
        }
        for character in text {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if (character == "-" || character == "'" || character == "\u{2019}") && !current.isEmpty {
                current.append(character)
            } else {
                flush()
            }
        }
        flush()
        return words
    }

    /// Words that introduce what an app is about: "a shop *for* handmade soap".
    static let connectors: Set<String> = [
        "for", "about", "selling", "sells", "featuring", "of", "on", "around", "covering", "called", "named",
    ]

    /// Words that never name the subject: articles, pronouns, generic app words, common verbs.
    static let fillers: Set<String> = [
        "a", "an", "the", "my", "our", "your", "their", "his", "her", "its", "me", "us", "we", "i", "you", "they",
        "and", "or", "but", "with", "without", "to", "in", "at", "by", "from", "into", "that", "which", "who",
        "where", "when", "this", "these", "those", "is", "are", "be", "can", "could", "will", "would", "should",
        "all", "every", "any", "some", "more", "most", "very", "just", "also", "like", "so", "it", "as", "if",
        "simple", "small", "little", "basic", "nice", "beautiful", "modern", "clean", "new", "personal", "cool",
        "great", "awesome", "minimal", "minimalist", "responsive", "single", "one", "two", "three", "few",
        "app", "apps", "application", "site", "website", "websites", "web", "page", "pages", "webpage", "tool",
        "platform", "system", "thing", "things", "stuff", "online", "people", "users", "user", "someone",
        "build", "create", "make", "want", "need", "needs", "please", "using", "use", "help", "helps", "let",
        "lets", "share", "sharing", "keep", "keeping", "manage", "managing", "organize", "organise", "plan",
        "planning", "write", "writing", "show", "shows", "showing", "display", "displays", "monitor",
        "monitoring", "record", "log", "browse", "buy", "find", "collect", "view", "see", "sell", "publish",
        "local", "real", "time", "where", "everything", "something", "stay",
    ]

    /// The subject named in the text: the first run of meaningful words after a connector, else
    /// the first run of meaningful words anywhere; at most three words.
    static func subjectWords(in text: String) -> [String] {
        let words = words(text)
        let lowered = words.map { $0.lowercased() }
        var starts = lowered.indices.filter { connectors.contains(lowered[$0]) }.map { $0 + 1 }
        starts.append(0)
        for start in starts {
            let run = meaningfulRun(words, lowered, from: start)
            if !run.isEmpty { return run }
        }
        return []
    }

    private static func meaningfulRun(_ words: [String], _ lowered: [String], from start: Int) -> [String] {
        var run: [String] = []
        var length = 0
        var index = start
        while index < words.count {
            let word = lowered[index]
            let meaningful =
                !fillers.contains(word) && !connectors.contains(word) && !StarterTemplates.isKeyword(word)
                && (2...24).contains(word.count)
            if meaningful {
                if run.count == 3 || length + word.count > 40 { break }
                run.append(words[index])
                length += word.count + 1
            } else if !run.isEmpty {
                break
            }
            index += 1
        }
        return run
    }

    /// Lower case, except words that carry their own capitals beyond the first letter ("iPhone", "NASA").
    static func midSentence(_ word: String) -> String {
        word.dropFirst().contains(where: \.isUppercase) ? word : word.lowercased()
    }

    static func capitalized(_ word: String) -> String {
        let word = midSentence(word)
        return word.prefix(1).uppercased() + word.dropFirst()
    }

    // MARK: Text

    /// Whitespace (newlines included) collapsed to single spaces, other control characters
    /// removed, cut at a word boundary within `limit` characters.
    static func oneLine(_ text: String, limit: Int) -> String {
        var line = ""
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = !line.isEmpty
            } else if scalar.properties.generalCategory == .control
                || (scalar.properties.generalCategory == .format && scalar != "\u{200D}")
            {
                continue
            } else {
                if pendingSpace { line.unicodeScalars.append(" ") }
                pendingSpace = false
                line.unicodeScalars.append(scalar)
            }
        }
        guard line.count > limit else { return line }
        var cut = String(line.prefix(limit))
        if let space = cut.lastIndex(of: " "), cut.distance(from: cut.startIndex, to: space) > limit / 2 {
            cut = String(cut[..<space])
        }
        return cut + "\u{2026}"
    }

    /// The text as a sentence: capitalised, ending in a full stop.
    static func sentence(from text: String, limit: Int) -> String {
        var sentence = oneLine(text, limit: limit)
        guard let first = sentence.first else { return sentence }
        sentence = first.uppercased() + sentence.dropFirst()
        if let last = sentence.last, !".!?\u{2026}".contains(last) { sentence += "." }
        return sentence
    }

    /// An npm package name from the title: ASCII letters and digits (accents dropped), hyphens
    /// between words, at most 64 characters; "my-app" when nothing is left.
    static func slug(_ title: String) -> String {
        let folded = title.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
        var slug = ""
        var pendingHyphen = false
        for scalar in folded.unicodeScalars {
            if ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) {
                if pendingHyphen && !slug.isEmpty { slug += "-" }
                pendingHyphen = false
                slug.unicodeScalars.append(scalar)
            } else if scalar != "'" && scalar != "\u{2019}" {
                pendingHyphen = true
            }
        }
        slug = slug.lowercased()
        if slug.count > 64 {
            slug = String(slug.prefix(64))
            while slug.hasSuffix("-") { slug.removeLast() }
        }
        return slug.isEmpty ? "my-app" : slug
    }

    /// FNV-1a over UTF-8: the same on every run and platform, unlike `Hasher`.
    static func stableHash(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }
}

extension Array {
    fileprivate var nonEmpty: Self? { isEmpty ? nil : self }
}
