import Protocol
import VectortCore
import Generation

/// What every starter app shares: the HTML head, base styles, `package.json`, `README.md` and a
/// few JavaScript helpers. Every file ends with a newline.
enum StarterScaffold {
    typealias E = StarterEscaping

    /// The five files of a starter app, in the order they are streamed.
    static func files(
        _ copy: StarterCopy, kind: StarterKind, body: String, styles: String, script: String, readme: String
    ) -> [ProjectFile] {
        [
            ProjectFile(path: "index.html", contents: page(copy, kind: kind, body: body)),
            ProjectFile(path: "styles.css", contents: baseStyles + "\n" + styles),
            ProjectFile(path: "app.js", contents: script),
            ProjectFile(path: "README.md", contents: readme),
            ProjectFile(path: "package.json", contents: packageJSON(copy)),
        ]
    }

    static func page(_ copy: StarterCopy, kind: StarterKind, body: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <meta name="description" content="\(E.html(copy.description))">
          <title>\(E.html(copy.title))</title>
          <link rel="icon" href="data:,">
          <link rel="stylesheet" href="styles.css">
          <script src="app.js" defer></script>
        </head>
        <body class="\(kind.rawValue)">
        \(body)
        </body>
        </html>

        """
    }

    static func packageJSON(_ copy: StarterCopy) -> String {
        """
        {
          "name": \(E.jsonString(copy.slug)),
          "version": "1.0.0",
          "private": true,
          "description": \(E.jsonString(copy.description)),
          "scripts": {
            "start": "npx serve ."
          }
        }

        """
    }

    /// The README: what the app is, how to open it, what each file does.
    static func readme(_ copy: StarterCopy, summary: String, features: [String], customise: [String]) -> String {
        let md = E.markdown
        return """
            # \(md(copy.title))

            \(md(copy.description))

            \(summary)

            ## Features

            \(features.map { "- " + $0 }.joined(separator: "\n"))

            ## Run it

            Open `index.html` in a browser: there is no build step and nothing is loaded from the
            network. To serve the folder over HTTP instead, run `npm start` (it uses `npx serve`) or
            any static file server.

            ## Files

            - `index.html`: the page.
            - `styles.css`: the styles (light and dark, small screens first).
            - `app.js`: the behaviour, plain JavaScript with no dependencies.
            - `package.json`: the name and a `start` script for a static server.

            ## Make it yours

            \(customise.map { "- " + $0 }.joined(separator: "\n"))

            """
    }

    /// `"use strict"`, storage that falls back to memory where `localStorage` is unavailable
    /// (private windows, some browsers on `file://`), and `el()` to build DOM without `innerHTML`.
    static func scriptPrelude(_ copy: StarterCopy) -> String {
        #"""
        "use strict";

        const STORAGE_PREFIX = \#(E.javaScriptString(copy.slug));
        const memoryStore = new Map();

        function load(key, fallback) {
          try {
            const raw = window.localStorage.getItem(STORAGE_PREFIX + ":" + key);
            return raw === null ? fallback : JSON.parse(raw);
          } catch (error) {
            return memoryStore.has(key) ? memoryStore.get(key) : fallback;
          }
        }

        function save(key, value) {
          memoryStore.set(key, value);
          try {
            window.localStorage.setItem(STORAGE_PREFIX + ":" + key, JSON.stringify(value));
          } catch (error) {
            // Storage is unavailable or full: the in-memory copy lasts until the page closes.
          }
        }

        // Builds an element. Text always goes in as text nodes, never as HTML.
        function el(tag, props, ...children) {
          const node = document.createElement(tag);
          for (const [name, value] of Object.entries(props || {})) {
            if (value === undefined || value === null || value === false) continue;
            if (name === "className") node.className = value;
            else if (name === "text") node.textContent = value;
            else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
            else node.setAttribute(name, value === true ? "" : String(value));
          }
          for (const child of children) {
            if (child !== undefined && child !== null && child !== false) node.append(child);
          }
          return node;
        }

        """#
    }

    static let baseStyles = """
        :root {
          color-scheme: light dark;
          --bg: #f7f7f8;
          --surface: #ffffff;
          --text: #1d1d23;
          --muted: #5d5d6b;
          --border: #e2e2e8;
          --accent: #4f46e5;
          --accent-text: #ffffff;
          --danger: #c2410c;
          --radius: 12px;
          --shadow: 0 1px 2px rgba(0, 0, 0, 0.06), 0 4px 16px rgba(0, 0, 0, 0.06);
          font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
          line-height: 1.5;
        }

        @media (prefers-color-scheme: dark) {
          :root {
            --bg: #121216;
            --surface: #1c1c22;
            --text: #ececf1;
            --muted: #a0a0ad;
            --border: #2e2e38;
            --accent: #818cf8;
            --accent-text: #121216;
            --danger: #fb923c;
            --shadow: none;
          }
        }

        *, *::before, *::after { box-sizing: border-box; }

        body {
          margin: 0;
          background: var(--bg);
          color: var(--text);
        }

        a { color: var(--accent); }
        h1, h2, h3 { line-height: 1.2; }
        img, svg { max-width: 100%; }

        .container { width: min(1100px, 100% - 2rem); margin-inline: auto; }
        .narrow { width: min(720px, 100% - 2rem); margin-inline: auto; }
        .muted { color: var(--muted); }
        .lead { font-size: 1.2rem; color: var(--muted); }

        .visually-hidden {
          position: absolute;
          width: 1px;
          height: 1px;
          overflow: hidden;
          clip-path: inset(50%);
          white-space: nowrap;
        }

        .button {
          display: inline-block;
          padding: 0.6rem 1.1rem;
          border: 1px solid var(--accent);
          border-radius: 999px;
          background: var(--accent);
          color: var(--accent-text);
          font: inherit;
          font-weight: 600;
          text-decoration: none;
          cursor: pointer;
        }
        .button:hover { filter: brightness(1.08); }
        .button.ghost { background: transparent; color: var(--accent); }
        .button.small { padding: 0.35rem 0.8rem; font-size: 0.9rem; }

        .link {
          border: 0;
          background: none;
          color: var(--accent);
          font: inherit;
          cursor: pointer;
          padding: 0;
        }

        input, select, textarea {
          font: inherit;
          color: inherit;
          background: var(--surface);
          border: 1px solid var(--border);
          border-radius: 8px;
          padding: 0.55rem 0.75rem;
        }

        :focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }

        .card {
          background: var(--surface);
          border: 1px solid var(--border);
          border-radius: var(--radius);
          box-shadow: var(--shadow);
          padding: 1.25rem;
        }

        .grid {
          display: grid;
          gap: 1rem;
          grid-template-columns: repeat(auto-fill, minmax(240px, 1fr));
        }

        .site-header {
          background: var(--surface);
          border-bottom: 1px solid var(--border);
        }
        .nav {
          display: flex;
          align-items: center;
          justify-content: space-between;
          gap: 1rem;
          padding-block: 0.9rem;
        }
        .nav nav { display: flex; align-items: center; gap: 1rem; flex-wrap: wrap; }
        .brand { font-weight: 700; color: var(--text); text-decoration: none; }

        .site-footer {
          padding-block: 2rem;
          color: var(--muted);
          font-size: 0.9rem;
          border-top: 1px solid var(--border);
          margin-top: 3rem;
        }

        """
}
