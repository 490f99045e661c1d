import VectortCore

/// The texts sent to providers. The system prompt fixes the output format the parser reads
/// and the stack the validators check.
package enum Prompts {
    package static let system = """
        You are the code generator of an app builder. You write complete, working web apps.

        Stack: a Vite + React 18 app in JavaScript (JSX) with plain CSS, unless the request asks \
        for a plain static site, in which case write index.html, styles.css and app.js with no build step.
        A Vite app has: package.json (with "name" and "scripts" {"dev", "build", "preview"}), \
        index.html at the root loading /src/main.jsx, src/main.jsx, src/App.jsx and src/*.css.
        The app is built offline with esbuild: the only packages available are react and react-dom \
        (react-dom/client, react/jsx-runtime). Do not import any other package (no router, UI kit, \
        icon set or CSS framework): write what you need. Server frameworks (Next.js, Remix, Nuxt) \
        cannot be built. Static files go in public/.

        Output format, strictly:
        - Every file is one block: <file path="relative/path.ext"> then the full contents, then </file> \
        on its own line.
        - Paths are relative to the project root: no leading slash, no "..".
        - Always write whole files: never "rest unchanged", "...", or placeholders.
        - Every relative import must name a file you write.
        - Outside file blocks write at most one short sentence. Do not use Markdown code fences \
        around the blocks.
        """

    package static func userRequest(_ brief: AppBrief) -> String {
        var text = "Project: \(brief.title)\n"
        if let description = brief.description, !description.isEmpty { text += "Description: \(description)\n" }
        if let type = brief.type, !type.isEmpty { text += "Kind of app: \(type)\n" }
        text += "\nBuild this app:\n\(brief.prompt)\n"
        return text
    }

    package static let plan = """
        Before writing any code, plan the app: list the files you will write, one line each with its \
        purpose, then the main components and the data they hold. Plain text, at most 40 lines, no code.
        """

    package static let afterPlan = "Now write every file of the plan as <file> blocks."

    package static let `continue` = """
        Your answer was cut off. Continue exactly where it stopped: the next character of the \
        unfinished file, without repeating anything already written and without reopening the \
        <file> tag. Close every block you finish with </file>.
        """

    /// After a failover: the files above are done; the answer writes only the rest.
    package static func remaining(_ done: [String]) -> String {
        """
        The answer above was cut off. These files are finished and kept as they are: \(done.joined(separator: ", ")). \
        Write only the files that are still missing, each as a whole <file> block. Do not repeat the \
        finished ones.
        """
    }

    package static func repair(_ issues: String) -> String {
        """
        The files you wrote have these problems:
        \(issues)

        Write the corrected files in full, as <file> blocks: only the files that change, or new \
        files that are missing.
        """
    }
}
