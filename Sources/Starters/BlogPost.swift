/// A sample post of the blog starter, written about the brief's subject.
struct BlogPost {
    var slug: String
    var title: String
    var date: String
    /// Without repeats: a subject named like a fixed tag ("guides") is listed once.
    var tags: [String]
    var summary: String
    var paragraphs: [String]

    init(title: String, date: String, tags: [String], summary: String, paragraphs: [String]) {
        slug = StarterCopy.slug(title)
        self.title = title
        self.date = date
        self.tags = tags.enumerated().filter { !tags[..<$0.offset].contains($0.element) }.map(\.element)
        self.summary = summary
        self.paragraphs = paragraphs
    }

    static func samples(_ copy: StarterCopy) -> [BlogPost] {
        let subject = copy.subject
        let heading = copy.subjectTitle
        let tag = StarterCopy.slug(copy.subject == StarterCopy.defaultSubject ? "notes" : copy.subject)
        return [
            BlogPost(
                title: "Getting started with \(subject)", date: "2025-03-14", tags: [tag, "guides"],
                summary: "Where to begin, what to skip, and the one habit that makes the rest easier.",
                paragraphs: [
                    "Every good project starts small. This first post is a map of where \(subject) begins and what is worth learning first.",
                    "Start with the basics and return to them often. The fundamentals carry you further than any shortcut.",
                    "Keep notes as you go: what worked, what did not, and what you would try next time. They become the best guide you have.",
                ]),
            BlogPost(
                title: "Five things I learned about \(subject)", date: "2025-02-02", tags: [tag, "lessons"],
                summary: "Lessons from the first months, from the obvious to the surprising.",
                paragraphs: [
                    "One: patience pays. Two: the details matter more than they seem. Three: ask for help early.",
                    "Four: write things down, because memory is a poor archive. Five: enjoy it, or none of the rest is worth it.",
                    "Which of these matches your own experience of \(subject)? Each one deserves a post of its own.",
                ]),
            BlogPost(
                title: "\(heading): a reading list", date: "2025-01-18", tags: ["reading", tag],
                summary: "Books, articles and people worth following.",
                paragraphs: [
                    "This is a living list, updated as new favourites turn up.",
                    "Start with the classics, then follow the threads that interest you most. The best sources point to other good sources.",
                ]),
            BlogPost(
                title: "Why I started this blog", date: "2024-12-30", tags: ["about"],
                summary: "A short introduction, and what to expect here.",
                paragraphs: [
                    "I wanted one place to collect what I learn about \(subject), and to share it with anyone on the same path.",
                    "Expect short posts, practical notes and the occasional long read. Thank you for reading.",
                ]),
        ]
    }
}
