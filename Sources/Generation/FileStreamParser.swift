public import Protocol
public import VectortCore

/// Reads the files out of a model's answer while it streams.
///
/// Two formats are read:
/// - `<file path="src/App.jsx">…</file>` blocks, the format the system prompt asks for. Attribute
///   values take double quotes, single quotes or none; entities (`&quot;`, `&#39;`, `&amp;`…) in
///   them are decoded. `path` (or `filepath`, `filename`) names the file. A self-closing
///   `<file … />` names no contents and is ignored; a tag may spread over several lines.
/// - A fenced code block headed by its path: a line naming the path (`src/App.jsx`,
///   `**src/App.jsx**`, `// file: src/App.jsx`, `### src/App.jsx`, `File: src/App.jsx`), at most
///   one blank line, then a fence; or the path in the fence's info string (```` ```jsx src/App.jsx ````,
///   ```` ```jsx:src/App.jsx ````, ```` ```jsx title="src/App.jsx" ````); or an unlabelled fence whose
///   first line is a comment naming the path (`// src/App.jsx`, `<!-- file: index.html -->`); that
///   comment line is not part of the contents.
///
/// Everything else is prose and ignored. `<file>` tags are recognised anywhere outside a file,
/// even inside a fence that wraps the whole answer.
///
/// **Where a `<file>` block ends.** At the first `</file>` followed on its line only by spaces or
/// tabs and then the end of the line (a newline, or the end of the stream) or another `<file` tag.
/// Any other `</file>` is contents: `"</file>";` in a string, `</file></div>` in JSX. The price is
/// that a contents line *ending* in `</file>` closes the block early; the model is told to put
/// `</file>` on its own line, and no streaming reader can wait for a later, better candidate.
/// Inside a block everything else is contents, fences and `<file` included.
///
/// **Where a fenced file ends.** At a line holding only a fence of the same character at least as
/// long as the opening one. A fence line with an info string (```` ```bash ````) inside opens a
/// nested block that the next bare fence closes, so a README with code samples survives.
///
/// **Contents.** Line ends become `\n` (`\r\n` is folded). The rest of the opening tag's line is
/// dropped when blank. One fence wrapping the whole contents of a `<file>` block is removed (for
/// Markdown files only when labelled `md`/`markdown`/`mdx` or longer than three backticks, since
/// a README may legitimately start and end with a code sample). Trailing whitespace is removed, and
/// non-empty contents end with exactly one `\n`.
///
/// **Paths.** Leading `./` is stripped and repeated slashes collapse; then `PathRules` decides.
/// An unsafe path (absolute, `..`, control characters, too long) yields `.fileRejected` and the
/// block's contents are skipped. A file growing past `VersionLimits.maxBytes`, or a new path beyond
/// `maxFiles`, is rejected the same way.
///
/// **Edits.** A line holding only `<delete path="…"/>` (outside a file block; the same attribute
/// names, quoting, entities and path rules as `<file>`) deletes a path. `operations` keeps the
/// writes and deletes in the order they came, for applying to a base version; `files` is what
/// the writes leave after the deletes. Created with `edits: true`, the parser also notes what an
/// edit must not contain: a `<file …/>` with no contents (`selfClosing`), a path-headed fence
/// marked `diff` or `patch` (`patches`, whose contents are skipped), and blocks whose path is
/// refused (`refused`).
///
/// **Streaming.** Input is examined a line at a time, once the line's newline has arrived (or at
/// `finish()`); nothing is scanned twice, so the cost is linear in the answer. A continuation fed
/// after a truncation carries on the open file, even from the middle of a line.
public struct FileStreamParser: Sendable {
    public enum Event: Sendable, Equatable {
        case fileStarted(path: String)
        case fileCompleted(ProjectFile)
        /// The block's path is unsafe, or the file is too large: the file is dropped.
        case fileRejected(path: String, reason: String)
        /// A `<delete path="…"/>` line.
        case fileDeleted(path: String)
    }

    /// A write or a delete, in the order the answer made them.
    public enum Operation: Sendable, Equatable {
        case write(ProjectFile)
        case delete(String)

        public var path: String {
            switch self {
            case .write(let file): return file.path
            case .delete(let path): return path
            }
        }
    }

    /// Files completed so far, in the order first seen; a later file with the same path replaces
    /// the earlier one in place.
    public private(set) var files: [ProjectFile] = []
    /// Why the last file over the limits (too large, one too many) was skipped; nil if none was.
    public private(set) var overLimit: String?
    /// Every completed write and every delete, in order.
    public private(set) var operations: [Operation] = []
    /// With `edits`: paths of `<file …/>` tags, which name no contents.
    public private(set) var selfClosing: [String] = []
    /// With `edits`: paths of fenced blocks marked `diff` or `patch`.
    public private(set) var patches: [String] = []
    /// Writes and deletes refused for their path (or size), with why.
    public private(set) var refused: [(path: String, reason: String)] = []
    /// The answer's text outside files, tags and fences, up to `proseLimit` bytes.
    public private(set) var prose = ""
    public static let proseLimit = 2000

    /// True when the stream, ended now, would end inside a file or inside an unfinished
    /// `<file`/`<delete` tag: the answer was cut. Costs what `isInsideFile` does.
    public var isCutOff: Bool {
        let ended = endedNow
        return ended.block != nil || ended.cutInTag
    }

    /// True while a file has been opened and not closed: truncation if the stream ends now.
    ///
    /// Answers as `finish()` would, without changing anything: an answer whose last line is
    /// `</file>` with no newline after it is not inside a file. Costs the length of that last,
    /// unterminated line, so ask once per stream rather than once per chunk.
    public var isInsideFile: Bool { endedNow.block != nil }

    /// Path of the open file (even one being skipped because it was rejected), if any, read as
    /// `isInsideFile` is.
    public var openPath: String? { endedNow.block?.path }

    /// This parser as it would be if the stream ended now.
    private var endedNow: FileStreamParser {
        guard !pending.isEmpty else { return self }
        var ended = self
        _ = ended.finish()
        return ended
    }

    private let limits: VersionLimits
    private let edits: Bool
    /// Set by `finish()` when the last line is an unfinished tag.
    private var cutInTag = false
    private var positions: [String: Int] = [:]
    private var events: [Event] = []

    /// Unconsumed input: at most one partial line.
    private var pending: [UInt8] = []
    /// Bytes of `pending` known to hold no newline.
    private var scanned = 0

    private var block: Block?
    private var contents: [UInt8] = []

    /// A `<file` tag whose `>` has not arrived yet, spread over lines.
    private var openingTag: [UInt8]?
    /// A line naming a path, waiting for the fence it may head.
    private var header: Header?
    /// The fence of an unlabelled code block in the prose, skipped.
    private var proseFence: Fence?
    private var atFirstLineOfProseFence = false

    private struct Block: Sendable {
        enum Kind: Sendable {
            case tag
            case fenced(Fence, nesting: Int)
        }

        var path: String
        var kind: Kind
        var rejected: Bool
    }

    private struct Header: Sendable {
        var path: String
        var blankLines: Int
    }

    public init(limits: VersionLimits = VersionLimits(), edits: Bool = false) {
        self.limits = limits
        self.edits = edits
    }

    /// Feeds the next piece of the answer, split anywhere; returns the events it completes.
    public mutating func feed(_ chunk: String) -> [Event] {
        pending.append(contentsOf: chunk.utf8)
        var start = 0
        var from = scanned
        while let newline = pending[from...].firstIndex(of: ASCII.newline) {
            handle(pending[start..<newline], terminated: true, atEnd: false)
            start = newline + 1
            from = start
        }
        if start > 0 { pending.removeFirst(start) }
        scanned = pending.count
        return takeEvents()
    }

    /// Ends the stream: reads the last, unterminated line and returns its events.
    ///
    /// An unterminated file is not completed: `isInsideFile` stays true, and a continuation may
    /// still be fed afterwards (the partial last line of the open file is kept for it).
    public mutating func finish() -> [Event] {
        let line = pending[...]
        switch block?.kind {
        case nil:
            cutInTag = endsInUnfinishedTag(Self.droppingCarriageReturn(line))
            handle(line, terminated: false, atEnd: true)
            pending.removeAll()
        case .tag:
            if Self.tagClose(in: Self.droppingCarriageReturn(line), terminated: false, atEnd: true) != nil {
                handle(line, terminated: false, atEnd: true)
                pending.removeAll()
            }
        case .fenced(let fence, _):
            if let closer = Fence(Self.droppingCarriageReturn(line)), fence.isClosed(by: closer) {
                handle(line, terminated: false, atEnd: true)
                pending.removeAll()
            }
        }
        scanned = pending.count
        openingTag = nil
        header = nil
        return takeEvents()
    }

    private mutating func takeEvents() -> [Event] {
        defer { events.removeAll() }
        return events
    }

    // MARK: Lines

    private mutating func handle(_ raw: ArraySlice<UInt8>, terminated: Bool, atEnd: Bool) {
        let line = Self.droppingCarriageReturn(raw)
        switch block?.kind {
        case nil: outsideLine(line, terminated: terminated, atEnd: atEnd)
        case .tag: tagLine(line, terminated: terminated, atEnd: atEnd)
        case .fenced(let fence, let nesting): fencedLine(line, fence: fence, nesting: nesting, terminated: terminated)
        }
    }

    private mutating func tagLine(_ line: ArraySlice<UInt8>, terminated: Bool, atEnd: Bool) {
        guard let (end, resume) = Self.tagClose(in: line, terminated: terminated, atEnd: atEnd) else {
            append(line, newline: terminated)
            return
        }
        append(line[..<end], newline: false)
        closeBlock(stripWrapper: true)
        if resume < line.endIndex { outsideLine(line[resume...], terminated: terminated, atEnd: atEnd) }
    }

    private mutating func fencedLine(_ line: ArraySlice<UInt8>, fence: Fence, nesting: Int, terminated: Bool) {
        if let other = Fence(line), other.character == fence.character, other.length >= fence.length {
            if other.info.isEmpty {
                if nesting == 0 {
                    closeBlock(stripWrapper: false)
                    return
                }
                block?.kind = .fenced(fence, nesting: nesting - 1)
            } else {
                block?.kind = .fenced(fence, nesting: nesting + 1)
            }
        }
        append(line, newline: terminated)
    }

    private mutating func outsideLine(_ line: ArraySlice<UInt8>, terminated: Bool, atEnd: Bool) {
        if var tag = openingTag {
            openingTag = nil
            tag.append(ASCII.newline)
            tag.append(contentsOf: line)
            switch Self.parseOpeningTag(tag[...], at: 0) {
            case .incomplete:
                if terminated && tag.count <= 4096 { openingTag = tag }
            case .opened(let path?, let end):
                openTagBlock(path: path, rest: tag[end...], terminated: terminated, atEnd: atEnd)
            case .selfClosing(let path, _):
                noteSelfClosing(path)
            case .opened(nil, _), .notFileTag:
                break
            }
            return
        }
        if deleteLine(line) { return }

        var from = line.startIndex
        while let start = Self.find(Self.openTag, in: line, from: from) {
            if Self.isFileTag(line, at: start) {
                switch Self.parseOpeningTag(line, at: start) {
                case .incomplete:
                    if terminated { openingTag = Array(line[start...]) }
                    return
                case .opened(let path?, let end):
                    openTagBlock(path: path, rest: line[end...], terminated: terminated, atEnd: atEnd)
                    return
                case .selfClosing(let path, _):
                    noteSelfClosing(path)
                case .opened(nil, _), .notFileTag:
                    break
                }
            }
            from = start + 1
        }
        fencesAndHeaders(line)
    }

    private mutating func openTagBlock(path: String, rest: ArraySlice<UInt8>, terminated: Bool, atEnd: Bool) {
        header = nil
        atFirstLineOfProseFence = false
        open(path: path, kind: .tag)
        if !Self.isBlank(rest) { tagLine(rest, terminated: terminated, atEnd: atEnd) }
    }

    /// Prose: watches for fences headed by a path, and skips unlabelled code samples.
    private mutating func fencesAndHeaders(_ line: ArraySlice<UInt8>) {
        if let fence = Fence(line) {
            if let sample = proseFence {
                if sample.isClosed(by: fence) { proseFence = nil }
                atFirstLineOfProseFence = false
                return
            }
            let path = Self.infoPath(fence.info) ?? header?.path
            header = nil
            if edits, let path, Self.isPatch(fence.info) {
                patches.append(Self.normalize(path))
                proseFence = fence
            } else if let path {
                open(path: path, kind: .fenced(fence, nesting: 0))
            } else {
                proseFence = fence
                atFirstLineOfProseFence = true
            }
            return
        }
        if let sample = proseFence {
            if atFirstLineOfProseFence {
                atFirstLineOfProseFence = false
                if let path = Self.commentPath(line) {
                    proseFence = nil
                    open(path: path, kind: .fenced(sample, nesting: 0))
                }
            }
            return
        }
        if Self.isBlank(line) {
            if let waiting = header {
                header = waiting.blankLines == 0 ? Header(path: waiting.path, blankLines: 1) : nil
            }
            return
        }
        header = Self.headerPath(line).map { Header(path: $0, blankLines: 0) }
        if header == nil { noteProse(line) }
    }

    // MARK: Files

    private mutating func open(path raw: String, kind: Block.Kind) {
        let path = Self.normalize(raw)
        var reason: String?
        do {
            try PathRules.validate(path: path, limits: limits)
            if positions[path] == nil && files.count >= limits.maxFiles {
                reason = "would be more than the limit of \(limits.maxFiles) files"
                overLimit = "\(path) " + reason!
            }
        } catch {
            reason = (error as? EngineError)?.wireError.message ?? "\(error)"
        }
        contents.removeAll(keepingCapacity: true)
        block = Block(path: path, kind: kind, rejected: reason != nil)
        if let reason {
            refused.append((path, reason))
            events.append(.fileRejected(path: path, reason: reason))
        } else {
            events.append(.fileStarted(path: path))
        }
    }

    private mutating func append(_ bytes: ArraySlice<UInt8>, newline: Bool) {
        guard let open = block, !open.rejected else { return }
        contents.append(contentsOf: bytes)
        if newline { contents.append(ASCII.newline) }
        if contents.count > limits.maxBytes {
            block?.rejected = true
            contents.removeAll()
            let reason = "is larger than the limit of \(limits.maxBytes) bytes"
            overLimit = "\(open.path) " + reason
            refused.append((open.path, reason))
            events.append(.fileRejected(path: open.path, reason: reason))
        }
    }

    private mutating func closeBlock(stripWrapper: Bool) {
        guard let closed = block else { return }
        block = nil
        if !closed.rejected {
            let file = ProjectFile(
                path: closed.path, contents: Self.finalContents(contents[...], stripWrapper: stripWrapper, path: closed.path))
            if let index = positions[closed.path] {
                files[index] = file
            } else {
                positions[closed.path] = files.count
                files.append(file)
            }
            operations.append(.write(file))
            events.append(.fileCompleted(file))
        }
        contents.removeAll(keepingCapacity: true)
    }

    // MARK: Edits

    /// Takes a `<delete path="…"/>` line (the tag alone on it, `</delete>` allowed after a
    /// plain `>`). Any other line is left for the rest.
    private mutating func deleteLine(_ line: ArraySlice<UInt8>) -> Bool {
        let text = Self.trimmed(line)
        guard text.starts(with: Self.deleteTag), text.count > Self.deleteTag.count,
            Self.isSpace(text[text.startIndex + Self.deleteTag.count])
        else { return false }
        let rawPath: String
        switch Self.parseOpeningTag(text, at: text.startIndex, nameLength: Self.deleteTag.count) {
        case .selfClosing(let path?, let end):
            guard Self.trimmed(text[end...]).isEmpty else { return false }
            rawPath = path
        case .opened(let path?, let end):
            let rest = Self.trimmed(text[end...])
            guard rest.isEmpty || rest.elementsEqual(Self.deleteClose) else { return false }
            rawPath = path
        default:
            return false
        }
        let path = Self.normalize(rawPath)
        do {
            try PathRules.validate(path: path, limits: limits)
        } catch {
            let reason = (error as? EngineError)?.wireError.message ?? "\(error)"
            refused.append((path, reason))
            events.append(.fileRejected(path: path, reason: reason))
            return true
        }
        if let index = positions[path] {
            files.remove(at: index)
            positions[path] = nil
            for (other, position) in positions where position > index { positions[other] = position - 1 }
        }
        operations.append(.delete(path))
        events.append(.fileDeleted(path: path))
        return true
    }

    private mutating func noteSelfClosing(_ path: String?) {
        guard edits, let path else { return }
        selfClosing.append(Self.normalize(path))
    }

    private mutating func noteProse(_ line: ArraySlice<UInt8>) {
        let text = Self.trimmed(line)
        guard !text.isEmpty, prose.utf8.count < Self.proseLimit else { return }
        if !prose.isEmpty { prose += "\n" }
        prose += String(decoding: text.prefix(Self.proseLimit - prose.utf8.count), as: UTF8.self)
    }

    /// Whether `line`, the last of the stream, leaves a `<file` or `<delete` tag unfinished.
    private func endsInUnfinishedTag(_ line: ArraySlice<UInt8>) -> Bool {
        if var tag = openingTag {
            tag.append(ASCII.newline)
            tag.append(contentsOf: line)
            return Self.parseOpeningTag(tag[...], at: 0) == .incomplete
        }
        let text = Self.trimmed(line)
        if text.starts(with: Self.deleteTag) {
            return Self.parseOpeningTag(text, at: text.startIndex, nameLength: Self.deleteTag.count) == .incomplete
        }
        if Self.deleteTag.starts(with: text) || Self.openTag.starts(with: text), text.count >= 2 { return true }
        var from = line.startIndex
        while let start = Self.find(Self.openTag, in: line, from: from) {
            if Self.isFileTag(line, at: start), Self.parseOpeningTag(line, at: start) == .incomplete { return true }
            from = start + 1
        }
        return false
    }
}
