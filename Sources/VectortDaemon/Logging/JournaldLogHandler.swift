import CDispatch
import CSystemd
import Foundation
import CoreFoundation  // owns struct stat and timespec once swift-crypto's C modules are in the build
import Glibc
import Logging

/// A swift-log handler that writes structured entries to journald through libsystemd's
/// `sd_journal_sendv` (the native protocol: multi-line values travel in the binary form).
///
/// Metadata keys become `VECTORT_*` upper-case fields, since journald silently drops field
/// names with lower-case letters, dots or dashes.
struct JournaldLogHandler: CoreLogHandler {
    var core: LogHandlerCore
    let label: String
    let identifier: String

    init(label: String, identifier: String = "vectortd", levels: LogLevelControl) {
        self.label = label
        self.identifier = identifier
        self.core = LogHandlerCore(levels: levels)
    }

    func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        var fields: [String] = [
            "MESSAGE=\(message)",
            "PRIORITY=\(Self.priority(level))",
            "SYSLOG_IDENTIFIER=\(identifier)",
            "CODE_FILE=\(event.file)",
            "CODE_LINE=\(event.line)",
            "CODE_FUNC=\(event.function)",
            "VECTORT_LOGGER=\(label)",
        ]
        let merged = core.merged(event)
        for (key, value) in merged {
            fields.append("\(Self.fieldName(key))=\(value)")
        }
        Self.send(fields)
    }

    /// swift-log level → syslog priority.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// `request.id` → `VECTORT_REQUEST_ID`: only A–Z, 0–9 and `_`, at most 64 characters.
    static func fieldName(_ key: String) -> String {
        let body = key.uppercased().unicodeScalars.map { scalar -> String in
            switch scalar {
            case "A"..."Z", "0"..."9": String(scalar)
            default: "_"
            }
        }.joined()
        return String(("VECTORT_" + body).prefix(64))
    }

    private static func send(_ fields: [String]) {
        let total = fields.reduce(0) { $0 + $1.utf8.count }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
        defer { storage.deallocate() }
        var vectors: [iovec] = []
        vectors.reserveCapacity(fields.count)
        var offset = 0
        for field in fields {
            let bytes = field.utf8
            UnsafeMutableRawBufferPointer(rebasing: storage[offset..<offset + bytes.count]).copyBytes(from: bytes)
            vectors.append(iovec(iov_base: storage.baseAddress! + offset, iov_len: bytes.count))
            offset += bytes.count
        }
        _ = sd_journal_sendv(vectors, Int32(vectors.count))
    }
}

/// Where log lines go: journald when our stderr is the journal stream systemd connected
/// (`$JOURNAL_STREAM` = device:inode of fd 2), otherwise readable lines on stderr.
enum LogDestination {
    static func stderrIsJournal(environment: [String: String]) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(2, &st) == 0 else { return false }
        return UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino
    }
}
