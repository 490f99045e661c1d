import Protocol
import VectortCore
import Generation

/// A blog: a list of posts, a page per post, tag pages and an about page, with hash routing so
/// that every view has a link that works from disk.
enum BlogTemplate {
    typealias E = StarterEscaping

    static func files(_ copy: StarterCopy) -> [ProjectFile] {
        StarterScaffold.files(
            copy, kind: .blog, body: body(copy), styles: styles, script: script(copy),
            readme: StarterScaffold.readme(
                copy,
                summary: "A blog built from the blog starter.",
                features: [
                    "A list of posts with summaries, reading times and tags.",
                    "A page per post at `#/post/<slug>`, tag pages at `#/tag/<tag>` and an about page.",
                    "Hash routing: every view has its own link and works when opened from disk.",
                ],
                customise: [
                    "Write your posts in `POSTS` at the top of `app.js`; each paragraph is one string.",
                    "Edit the about text in `SITE.about`.",
                    "Change the colours in the `:root` block of `styles.css`.",
                ]))
    }

    static func tagline(_ copy: StarterCopy) -> String {
        copy.subject == StarterCopy.defaultSubject
            ? "Notes, ideas and stories." : "Notes and stories about \(copy.subject)."
    }

    static func body(_ copy: StarterCopy) -> String {
        """
        <header class="site-header">
          <div class="narrow nav">
            <a class="brand" href="#/">\(E.html(copy.title))</a>
            <nav aria-label="Main">
              <a href="#/">Posts</a>
              <a href="#/about">About</a>
            </nav>
          </div>
        </header>
        <main id="app" class="narrow blog-main" tabindex="-1">
          <noscript>This blog needs JavaScript to show its posts.</noscript>
        </main>
        <footer class="site-footer">
          <div class="narrow">\(E.html(tagline(copy)))</div>
        </footer>
        """
    }

    struct Post {
        var title: String
        var date: String
        var tags: [String]
        var summary: String
        var paragraphs: [String]

        init(title: String, date: String, tags: [String], summary: String, paragraphs: [String]) {
            self.title = title
            self.date = date
            self.tags = tags.enumerated().filter { !tags[..<$0.offset].contains($0.element) }.map(\.element)
            self.summary = summary
            self.paragraphs = paragraphs
        }
    }

    static func posts(_ copy: StarterCopy) -> [Post] {
        let subject = copy.subject
        let heading = copy.subjectTitle
        let tag = StarterCopy.slug(copy.subject == StarterCopy.defaultSubject ? "notes" : copy.subject)
        return [
            Post(
                title: "Getting started with \(subject)", date: "2025-03-14", tags: [tag, "guides"],
                summary: "Where to begin, what to skip, and the one habit that makes the rest easier.",
                paragraphs: [
                    "Every good project starts small. This first post is a map of where \(subject) begins and what is worth learning first.",
                    "Start with the basics and return to them often. The fundamentals carry you further than any shortcut.",
                    "Keep notes as you go: what worked, what did not, and what you would try next time. They become the best guide you have.",
                ]),
            Post(
                title: "Five things I learned about \(subject)", date: "2025-02-02", tags: [tag, "lessons"],
                summary: "Lessons from the first months, from the obvious to the surprising.",
                paragraphs: [
                    "One: patience pays. Two: the details matter more than they seem. Three: ask for help early.",
                    "Four: write things down, because memory is a poor archive. Five: enjoy it, or none of the rest is worth it.",
                    "Which of these matches your own experience of \(subject)? Each one deserves a post of its own.",
                ]),
            Post(
                title: "\(heading): a reading list", date: "2025-01-18", tags: ["reading", tag],
                summary: "Books, articles and people worth following.",
                paragraphs: [
                    "This is a living list, updated as new favourites turn up.",
                    "Start with the classics, then follow the threads that interest you most. The best sources point to other good sources.",
                ]),
            Post(
                title: "Why I started this blog", date: "2024-12-30", tags: ["about"],
                summary: "A short introduction, and what to expect here.",
                paragraphs: [
                    "I wanted one place to collect what I learn about \(subject), and to share it with anyone on the same path.",
                    "Expect short posts, practical notes and the occasional long read. Thank you for reading.",
                ]),
        ]
    }

    static func script(_ copy: StarterCopy) -> String {
        let js = E.javaScriptString
        let posts = posts(copy).map { post in
            """
              {
                slug: \(js(StarterCopy.slug(post.title))),
                title: \(js(post.title)),
                date: \(js(post.date)),
                tags: [\(post.tags.map(js).joined(separator: ", "))],
                summary: \(js(post.summary)),
                paragraphs: [
                  \(post.paragraphs.map(js).joined(separator: ",\n      ")),
                ],
              }
            """
        }
        return StarterScaffold.scriptPrelude(copy) + #"""

            const SITE = {
              title: \#(js(copy.title)),
              tagline: \#(js(tagline(copy))),
              about: \#(js(copy.description)),
            };

            const POSTS = [
            \#(posts.joined(separator: ",\n")),
            ];

            const app = document.getElementById("app");

            function formatDate(isoDate) {
              const [year, month, day] = isoDate.split("-").map(Number);
              return new Date(year, month - 1, day).toLocaleDateString(undefined, {
                year: "numeric",
                month: "long",
                day: "numeric",
              });
            }

            function readingTime(post) {
              const words = post.paragraphs.join(" ").split(" ").filter(Boolean).length;
              return Math.max(1, Math.round(words / 200)) + " min read";
            }

            function tagLinks(tags) {
              return el("ul", { className: "tags" },
                ...tags.map((tag) => el("li", {}, el("a", { href: "#/tag/" + encodeURIComponent(tag), text: "#" + tag }))));
            }

            function meta(post) {
              return el("p", { className: "post-meta muted" },
                el("time", { datetime: post.date, text: formatDate(post.date) }),
                " \u00b7 " + readingTime(post));
            }

            function postCard(post) {
              return el("article", { className: "post-card" },
                el("h2", {}, el("a", { href: "#/post/" + post.slug, text: post.title })),
                meta(post),
                el("p", { text: post.summary }),
                tagLinks(post.tags));
            }

            function listView(tag) {
              const posts = tag ? POSTS.filter((post) => post.tags.includes(tag)) : POSTS;
              const heading = tag
                ? el("header", { className: "list-header" },
                    el("h1", { text: "Posts tagged #" + tag }),
                    el("p", {}, el("a", { href: "#/", text: "All posts" })))
                : el("header", { className: "list-header" },
                    el("h1", { text: SITE.title }),
                    el("p", { className: "lead", text: SITE.tagline }));
              const items = posts.length
                ? posts.map(postCard)
                : [el("p", { className: "muted", text: "No posts yet." })];
              return [heading, ...items];
            }

            function postView(post) {
              document.title = post.title + " \u2013 " + SITE.title;
              return [
                el("article", { className: "post" },
                  el("header", {},
                    el("h1", { text: post.title }),
                    meta(post)),
                  ...post.paragraphs.map((text) => el("p", { text })),
                  tagLinks(post.tags)),
                el("p", { className: "back" }, el("a", { href: "#/", text: "\u2190 All posts" })),
              ];
            }

            function aboutView() {
              document.title = "About \u2013 " + SITE.title;
              return [
                el("h1", { text: "About" }),
                el("p", { className: "lead", text: SITE.about }),
                el("p", {}, el("a", { href: "#/", text: "\u2190 All posts" })),
              ];
            }

            function notFoundView() {
              document.title = "Not found \u2013 " + SITE.title;
              return [
                el("h1", { text: "Page not found" }),
                el("p", {}, "There is nothing here. ", el("a", { href: "#/", text: "See all posts" }), "."),
              ];
            }

            function route() {
              let path = window.location.hash.replace("#", "");
              try {
                path = decodeURIComponent(path);
              } catch (error) {
                // A malformed escape in a hand-typed address: match it as written.
              }
              const parts = path.split("/").filter(Boolean);
              document.title = SITE.title;
              let view;
              if (parts.length === 0) view = listView(null);
              else if (parts[0] === "about" && parts.length === 1) view = aboutView();
              else if (parts[0] === "tag" && parts.length === 2) view = listView(parts[1]);
              else if (parts[0] === "post" && parts.length === 2) {
                const post = POSTS.find((candidate) => candidate.slug === parts[1]);
                view = post ? postView(post) : notFoundView();
              } else view = notFoundView();
              app.replaceChildren(...view);
              window.scrollTo(0, 0);
            }

            window.addEventListener("hashchange", () => {
              route();
              app.focus({ preventScroll: true });
            });
            route();

            """#
    }

    static let styles = """
        .nav { width: min(720px, 100% - 2rem); }
        .blog-main { padding-block: 2.5rem; outline: none; }
        .list-header h1 { font-size: clamp(2rem, 5vw, 2.8rem); margin-bottom: 0.25rem; }
        .list-header .lead { margin-top: 0; }

        .post-card {
          padding-block: 1.5rem;
          border-bottom: 1px solid var(--border);
        }
        .post-card h2 { margin: 0 0 0.25rem; font-size: 1.4rem; }
        .post-card h2 a { color: var(--text); text-decoration: none; }
        .post-card h2 a:hover { color: var(--accent); }
        .post-meta { margin: 0 0 0.5rem; font-size: 0.9rem; }

        .tags { display: flex; flex-wrap: wrap; gap: 0.4rem; list-style: none; padding: 0; margin: 0.5rem 0 0; }
        .tags a {
          display: inline-block;
          padding: 0.1rem 0.6rem;
          border-radius: 999px;
          background: var(--surface);
          border: 1px solid var(--border);
          font-size: 0.85rem;
          text-decoration: none;
        }

        .post h1 { font-size: clamp(1.9rem, 5vw, 2.6rem); margin-bottom: 0.25rem; }
        .post p { font-size: 1.1rem; }
        .back { margin-top: 2rem; }

        """
}
