public import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Protocol

/// One plain-text message.
public struct Mail: Sendable, Equatable {
    public var to: String
    public var subject: String
    public var text: String

    public init(to: String, subject: String, text: String) {
        self.to = to
        self.subject = subject
        self.text = text
    }
}

/// Sends mail: SMTP to a relay, or SendGrid's v3 API. `nil` mailer = mail is off.
public protocol Mailer: Sendable {
    func send(_ mail: Mail) async throws
}

public struct MailError: Error, CustomStringConvertible {
    public var description: String
}

/// SendGrid's v3 `POST /v3/mail/send` (202 Accepted).
public struct SendGridMailer: Mailer {
    let http: HTTPClient
    let apiBase: String
    let apiKey: String
    let from: String

    public init(http: HTTPClient, apiBase: String, apiKey: String, from: String) {
        self.http = http
        self.apiBase = apiBase
        self.apiKey = apiKey
        self.from = from
    }

    public func send(_ mail: Mail) async throws {
        var request = HTTPClientRequest(url: apiBase + "/v3/mail/send")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        request.headers.add(name: "Content-Type", value: "application/json")
        let body: JSONValue = [
            "personalizations": [["to": [["email": .string(mail.to)]]]], "from": ["email": .string(from)],
            "subject": .string(mail.subject), "content": [["type": "text/plain", "value": .string(mail.text)]],
        ]
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        let response = try await http.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 64 * 1024))
        guard (200..<300).contains(Int(response.status.code)) else {
            let message = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))?["errors"]?.arrayValue?.first?["message"]?.stringValue
            throw MailError(description: "SendGrid answered \(response.status.code): \(message ?? text.prefix(200).description)")
        }
    }
}

/// SMTP to a relay (`smtp://[user@]host[:port]`): STARTTLS whenever the relay offers it (the
/// certificate checked against the system's roots, or `caFile`'s), then `AUTH PLAIN` when a
/// password is set. A password is never sent in clear to a host that is not loopback.
public struct SMTPMailer: Mailer {
    let host: String
    let port: Int
    let user: String?
    let password: String?
    let from: String
    let heloName: String
    let tls: NIOSSLContext
    /// The whole exchange, from connecting to the reply to `.`: a relay that stops answering
    /// fails the send (and its connection is closed) instead of holding it forever.
    let exchangeLimit: Duration

    public init(
        url: String, password: String?, from: String, caFile: String? = nil, heloName: String = "vectortd",
        exchangeLimit: Duration = .seconds(60)
    ) throws {
        self.exchangeLimit = exchangeLimit
        guard let components = URLComponents(string: url), components.scheme == "smtp", let host = components.host, !host.isEmpty else {
            throw MailError(description: "mail.smtp_url must be smtp://[user@]host[:port]")
        }
        self.host = host
        port = components.port ?? 25
        user = components.user.flatMap { $0.removingPercentEncoding ?? $0 }
        self.password = password
        self.from = from
        self.heloName = heloName
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile, !caFile.isEmpty {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw MailError(description: "mail.smtp_ca_file: cannot read \(caFile): \(error)")
            }
        }
        tls = try NIOSSLContext(configuration: configuration)
    }

    var isLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host) }


    public func send(_ mail: Mail) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await exchange(mail) }
            let (host, limit) = (host, exchangeLimit)
            group.addTask {
                try await Task.sleep(for: limit)
                throw MailError(description: "the SMTP relay \(host) did not finish the exchange within \(limit)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func exchange(_ mail: Mail) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let underlying = channel.channel
        let tls = tls
        // An IP literal is checked against the certificate's IP addresses; a name is sent as SNI.
        let serverName: String? = host.contains(where: \.isLetter) && !host.contains(":") ? host : nil
        try await channel.executeThenClose { inbound, outbound in
            var replies = SMTPReplies(inbound.makeAsyncIterator())
            func command(_ line: String, expect codes: Set<Int>) async throws -> [String] {
                if !line.isEmpty { try await outbound.write(ByteBuffer(string: line + "\r\n")) }
                let (code, lines) = try await replies.next()
                guard codes.contains(code) else {
                    let shown = line.hasPrefix("AUTH") ? "AUTH PLAIN …" : line
                    throw MailError(description: "SMTP \(shown.isEmpty ? "greeting" : shown): \(code) \(lines.joined(separator: " "))")
                }
                return lines
            }
            _ = try await command("", expect: [220])
            var features = try await command("EHLO \(heloName)", expect: [250])
            var secure = false
            if features.contains(where: { $0.uppercased() == "STARTTLS" }) {
                _ = try await command("STARTTLS", expect: [220])
                try await underlying.eventLoop.submit {
                    try underlying.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: tls, serverHostname: serverName), position: .first)
                }.get()
                secure = true
                // The session starts over inside TLS.
                features = try await command("EHLO \(heloName)", expect: [250])
            }
            if let password {
                guard secure || isLoopback else {
                    throw MailError(description: "the SMTP relay \(host) offers no STARTTLS: the password is not sent in clear")
                }
                guard features.contains(where: { $0.uppercased().hasPrefix("AUTH") && $0.uppercased().contains("PLAIN") }) else {
                    throw MailError(description: "the SMTP relay does not offer AUTH PLAIN")
                }
                let credentials = Data(("\u{0}" + (user ?? "") + "\u{0}" + password).utf8).base64EncodedString()
                _ = try await command("AUTH PLAIN \(credentials)", expect: [235])
            }
            _ = try await command("MAIL FROM:<\(from)>", expect: [250])
            _ = try await command("RCPT TO:<\(mail.to)>", expect: [250, 251])
            _ = try await command("DATA", expect: [354])
            try await outbound.write(ByteBuffer(string: Self.message(mail, from: from)))
            _ = try await command(".", expect: [250])
            _ = try? await command("QUIT", expect: [221])
        }
    }

    /// The message as sent after DATA: headers, the body with lines starting with "." doubled.
    static func message(_ mail: Mail, from: String, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let domain = from.split(separator: "@").last.map(String.init) ?? "localhost"
        let subject = mail.subject.allSatisfy(\.isASCII)
            ? mail.subject : "=?UTF-8?B?" + Data(mail.subject.utf8).base64EncodedString() + "?="
        let headers = [
            "From: \(from)", "To: \(mail.to)", "Subject: \(subject)", "Date: \(formatter.string(from: date))",
            "Message-ID: <\(UUID().uuidString.lowercased())@\(domain)>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
        ]
        let body = mail.text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        return (headers + [""] + body).joined(separator: "\r\n") + "\r\n"
    }
}

/// SMTP replies read off a byte stream: `250-first`, `250 last` → (250, [first, last]).
struct SMTPReplies {
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    var buffer = ByteBuffer()

    init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.iterator = iterator
    }

    mutating func next() async throws -> (Int, [String]) {
        var lines: [String] = []
        while true {
            let line = try await nextLine()
            guard line.count >= 3, let code = Int(line.prefix(3)) else { throw MailError(description: "not an SMTP reply: \(line)") }
            lines.append(String(line.dropFirst(4)))
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] != "-" { return (code, lines) }
        }
    }

    private mutating func nextLine() async throws -> String {
        while true {
            if let end = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let view = buffer.readableBytesView
                let length = view.distance(from: view.startIndex, to: end) + 1
                var line = buffer.readString(length: length) ?? ""
                // "\r\n" is one Character in Swift: trim by scalars.
                while let last = line.unicodeScalars.last, last == "\n" || last == "\r" { line.unicodeScalars.removeLast() }
                return line
            }
            guard buffer.readableBytes < 64 * 1024, var more = try await iterator.next() else {
                throw MailError(description: "the SMTP relay closed the connection")
            }
            buffer.writeBuffer(&more)
        }
    }
}
