public import NIOCore

/// One dispatched server-sent event.
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field; nil for the default type ("message").
    public var event: String?
    /// The `data:` lines joined by "\n".
    public var data: String
    /// The last event ID seen on the stream (it persists across events, as the spec says).
    public var id: String?
    /// A `retry:` reconnection time in milliseconds, when this event carried one.
    public var retry: Int?

    public init(event: String? = nil, data: String, id: String? = nil, retry: Int? = nil) {
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry
    }
}

/// An incremental decoder for `text/event-stream` (WHATWG HTML §9.2): feed it the body in
/// buffers split anywhere (inside a line, inside a UTF-8 sequence, between CR and LF) and it
/// returns the events completed so far. Lines end with LF, CR or CRLF; lines starting with ":"
/// are comments; an event is dispatched at a blank line and only when it carried data.
public struct ServerSentEventDecoder: Sendable {
    private var line: [UInt8] = []
    /// The previous buffer ended with CR: an LF at the start of the next one belongs to it.
    private var pendingCR = false
    private var atStreamStart = true
    private var eventType: String?
    private var data: [UInt8] = []
    private var hasData = false
    private var lastEventID: String?
    private var retry: Int?

    public init() {}

    /// Whether the stream holds the beginning of an event that no blank line has ended yet.
    public var hasPartialEvent: Bool { !line.isEmpty || hasData || eventType != nil }

    public mutating func feed(_ buffer: ByteBuffer) -> [ServerSentEvent] {
        buffer.withUnsafeReadableBytes { feed(bytes: $0) }
    }

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        Array(bytes).withUnsafeBytes { feed(bytes: $0) }
    }

    private mutating func feed(bytes: UnsafeRawBufferPointer) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        var start = 0
        var index = 0
        let cr: UInt8 = 0x0D
        let lf: UInt8 = 0x0A
        if pendingCR, let first = bytes.first {
            pendingCR = false
            if first == lf {
                start = 1
                index = 1
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == cr || byte == lf {
                line.append(contentsOf: bytes[start..<index])
                if let event = endLine() { events.append(event) }
                if byte == cr {
                    if index + 1 < bytes.count {
                        if bytes[index + 1] == lf { index += 1 }
                    } else {
                        pendingCR = true
                    }
                }
                index += 1
                start = index
            } else {
                index += 1
            }
        }
        if start < bytes.count { line.append(contentsOf: bytes[start..<bytes.count]) }
        return events
    }

    /// Processes the line in `line`; returns an event when the line was blank and one was pending.
    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if atStreamStart {
            atStreamStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        }
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let name: [UInt8]
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            name = Array(line[..<colon])
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            name = line
            value = []
        }
        switch String(decoding: name, as: UTF8.self) {
        case "event":
            eventType = String(decoding: value, as: UTF8.self)
        case "data":
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        case "id":
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        case "retry":
            if !value.isEmpty, value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                retry = Int(String(decoding: value, as: UTF8.self))
            }
        default:
            break
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            eventType = nil
            data.removeAll(keepingCapacity: true)
            hasData = false
            retry = nil
        }
        guard hasData else { return nil }
        let type = eventType.flatMap { $0.isEmpty ? nil : $0 }
        return ServerSentEvent(event: type, data: String(decoding: data, as: UTF8.self), id: lastEventID, retry: retry)
    }
}
