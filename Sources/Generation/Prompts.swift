package import Protocol
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
        unfinished file or of the unfinished <file> or <delete/> tag, without repeating anything \
        already written and without reopening the <file> tag. Close every block you finish with </file>.
        """

    /// After a failover: the files above are done (and the deletions); the answer writes only the rest.
    package static func remaining(_ done: [String], deleted: [String] = []) -> String {
        var text = "The answer above was cut off. "
        if !done.isEmpty {
            text += "These files are finished and kept as they are: \(done.joined(separator: ", ")). "
        }
        if !deleted.isEmpty { text += "These deletions are done: \(deleted.joined(separator: ", ")). " }
        return text + """
            Write only what is still missing, each file as a whole <file> block. Do not repeat the \
            finished ones.
            """
    }

    /// The system prompt of an edit: the generator's, and how an edit is written.
    package static let editSystem = system + """


        You are editing an existing app: its files are in the request. How to write an edit:
        - Write only the files you change or add, each as a whole <file path="…"> block with its \
        complete new contents. Never write a diff, a patch or part of a file, and never leave code \
        out with "...", "rest unchanged" or "existing code" comments.
        - Delete a file with <delete path="relative/path.ext"/> on a line of its own, outside any \
        file block. To rename a file, delete it and write it under the new name.
        - An empty <file> block is an empty file, not a deletion.
        - Do not write a file you do not change. Files the request lists as left out or binary \
        stay as they are: do not write them.
        """

    /// The request of an edit: the project, the base version's files, the conversation so far
    /// and what to change.
    package static func editRequest(
        _ brief: AppBrief, version: Int, context: EditContext, history: [String], buildErrors: [GenerationIssue]?
    ) -> String {
        var text = "Project: \(brief.title)\n"
        if let description = brief.description, !description.isEmpty { text += "Description: \(description)\n" }
        if let type = brief.type, !type.isEmpty { text += "Kind of app: \(type)\n" }
        text += "\nThe app now (version \(version)) has these files:\n\n"
        for file in context.shown {
            text += "<file path=\"\(file.path)\">\n\(file.contents)"
            if !file.contents.isEmpty && !file.contents.hasSuffix("\n") { text += "\n" }
            text += "</file>\n"
        }
        if !context.omitted.isEmpty {
            text += "\nLeft out of this request for size, kept as they are: \(context.omitted.joined(separator: ", "))\n"
        }
        if !context.binary.isEmpty {
            text += "\nBinary files, kept as they are: \(context.binary.joined(separator: ", "))\n"
        }
        if let buildErrors, !buildErrors.isEmpty {
            text += "\nThis version does not build. Fix these errors as part of the change:\n"
            text += Validators.summary(buildErrors) + "\n"
        }
        if !history.isEmpty {
            text += "\nEarlier requests in this conversation, oldest first:\n"
            for (index, prompt) in history.enumerated() { text += "\(index + 1). \(prompt)\n" }
        }
        text += "\nChange the app as asked:\n\(brief.prompt)\n"
        return text
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
