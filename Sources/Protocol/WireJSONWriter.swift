/// A value that writes its own wire JSON, for the replies sent most often (a generation's
/// events): the same object JSONEncoder makes with `WireCoding`'s options (sorted keys, slashes
/// unescaped, nil fields left out), without Codable's containers. `writeWireJSON` returns false
/// when the value holds something it does not write by hand; the caller then uses the encoder.
public protocol WireJSONWritable {
    func writeWireJSON(_ writer: inout WireJSONWriter) -> Bool
}

/// Appends JSON to a byte array. Object members must be written in sorted key order.
public struct WireJSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Starts a member; its value follows.
    public mutating func key(_ key: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        needsComma = false
    }

    /// Before an array element.
    public mutating func element() {
        separate()
        needsComma = false
    }

    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: utf8[start..<index])
                Self.escape(byte, into: &bytes)
                start = index + 1
            }
            bytes.append(contentsOf: utf8[start...])
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    public mutating func int(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func member(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    public mutating func member(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        int(value)
    }

    public mutating func member(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bool(value)
    }

    /// A string → int map, keys in sorted order; false (and nothing written) when a key is not
    /// ASCII, whose order the encoder may not share with byte order.
    public mutating func member(_ name: StaticString, _ map: [String: Int]) -> Bool {
        guard map.keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) else { return false }
        key(name)
        beginObject()
        for (entryKey, value) in map.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            separate()
            string(entryKey)
            bytes.append(UInt8(ascii: ":"))
            int(value)
        }
        endObject()
        return true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private static func escape(_ byte: UInt8, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            let hex = Array("0123456789abcdef".utf8)
            bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
        }
    }
}

extension WireJSONWriter {
    /// `"key": ["a", "b"]`, or nothing when `values` is nil.
    mutating func strings(_ key: StaticString, _ values: [String]?) {
        guard let values else { return }
        self.key(key)
        beginArray()
        for value in values {
            element()
            string(value)
        }
        endArray()
    }
}

extension GenerationEvent: WireJSONWritable {
    /// Keys in sorted order, as `WireCoding.encoder` writes them. A retry's `delay_seconds` is
    /// left to the encoder, whose number formatting is the reference.
    public func writeWireJSON(_ writer: inout WireJSONWriter) -> Bool {
        guard delaySeconds == nil else { return false }
        writer.beginObject()
        writer.member("attempt", attempt)
        writer.member("base_version", baseVersion)
        writer.member("base_version_number", baseVersionNumber)
        writer.member("bytes", bytes)
        writer.strings("context_omitted", contextOmitted)
        writer.member("credits_held", creditsHeld)
        writer.member("deleted", deleted)
        writer.member("event", event.rawValue)
        writer.member("generation", generation)
        if let issues {
            writer.key("issues")
            writer.beginArray()
            for issue in issues {
                writer.element()
                writer.beginObject()
                writer.member("column", issue.column)
                writer.member("line", issue.line)
                writer.member("message", issue.message)
                writer.member("path", issue.path)
                writer.member("rule", issue.rule)
                writer.endObject()
            }
            writer.endArray()
        }
        writer.strings("kept", kept)
        writer.member("message", message)
        writer.member("mode", mode?.rawValue)
        writer.member("model", model)
        writer.member("passed", passed)
        writer.member("path", path)
        writer.member("project", project)
        writer.member("provider", provider)
        writer.member("purpose", purpose)
        writer.member("reason", reason)
        writer.member("to", to)
        writer.member("version", version)
        writer.endObject()
        return true
    }
}

extension CreditBalance: WireJSONWritable {
    /// `GetBalance`'s reply, the most frequent of all.
    public func writeWireJSON(_ writer: inout WireJSONWriter) -> Bool {
        writer.beginObject()
        guard writer.member("buckets", buckets) else { return false }
        writer.member("held", held)
        writer.member("monthly_expires_at", monthlyExpiresAt)
        writer.member("total", total)
        writer.member("user", user)
        writer.endObject()
        return true
    }
}

extension CreditHold: WireJSONWritable {
    /// The reply of `Hold`, `Settle` and `Release`.
    public func writeWireJSON(_ writer: inout WireJSONWriter) -> Bool {
        writer.beginObject()
        guard writer.member("allocations", allocations) else { return false }
        writer.member("amount", amount)
        writer.member("charged", charged)
        writer.member("created_at", createdAt)
        writer.member("id", id)
        writer.member("reference", reference)
        writer.member("status", status.rawValue)
        writer.member("user", user)
        writer.endObject()
        return true
    }
}

extension WireJSONWriter {
    /// Starts a member whose name is only known at run time (ASCII: its sort order is the
    /// encoder's).
    mutating func key(named name: String) {
        separate()
        string(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func null() {
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }
}

extension JSONValue: WireJSONWritable {
    /// The event stream's replies (`Events.Subscribe`) are JSON values: written by hand like a
    /// generation's events. A fractional number or a non-ASCII key leaves the whole value to the
    /// encoder, whose number formatting and key order are the reference.
    public func writeWireJSON(_ writer: inout WireJSONWriter) -> Bool {
        switch self {
        case .null:
            writer.null()
        case .bool(let value):
            writer.bool(value)
        case .int(let value):
            writer.int(Int(value))
        case .double:
            return false
        case .string(let value):
            writer.string(value)
        case .array(let values):
            writer.beginArray()
            for value in values {
                writer.element()
                guard value.writeWireJSON(&writer) else { return false }
            }
            writer.endArray()
        case .object(let members):
            guard members.keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) else { return false }
            writer.beginObject()
            for key in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                writer.key(named: key)
                guard members[key]!.writeWireJSON(&writer) else { return false }
            }
            writer.endObject()
        }
        return true
    }
}
