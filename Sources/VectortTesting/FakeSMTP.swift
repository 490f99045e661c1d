public import Foundation
import Crypto
import NIOCore
import NIOPosix
import NIOSSL
import SwiftASN1
import X509
public import VectortCore

/// A loopback SMTP relay as Postfix answers a client: the 220 greeting, `EHLO` with its
/// extensions (`AUTH PLAIN` when a password is required), `AUTH PLAIN` (535 for wrong
/// credentials), `MAIL FROM`, `RCPT TO`, `DATA` up to the lone `.` (dot-stuffing undone),
/// `RSET`, `QUIT`, 500 for anything else. Every message it accepted is kept. With `tls`, it
/// offers STARTTLS under a self-signed certificate for 127.0.0.1 (`certificatePEM`, to trust),
/// and then offers AUTH only inside TLS, as a relay on the internet does.
public final class FakeSMTP: Sendable {
    public struct Message: Sendable {
        public var from: String
        public var to: [String]
        /// The message as received after DATA, with CRLF line ends.
        public var data: String
        /// Who authenticated, if anyone.
        public var user: String?

        /// A header's value.
        public func header(_ name: String) -> String? {
            for line in data.components(separatedBy: "\r\n") {
                if line.isEmpty { break }
                if line.lowercased().hasPrefix(name.lowercased() + ":") {
                    return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }

        /// What follows the headers.
        public var body: String { data.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }
    }

    public let port: Int
    /// With `tls`: the certificate the relay presents (PEM), for the client to trust.
    public let certificatePEM: String?
    /// Messages that arrived inside TLS.
    private let received = Locked<[Message]>([])
    private let secured = Locked<Set<Int>>([])
    private let channel: any Channel

    private init(port: Int, channel: any Channel, certificatePEM: String?) {
        self.port = port
        self.channel = channel
        self.certificatePEM = certificatePEM
    }

    /// Whether message `index` arrived over TLS.
    public func wasEncrypted(_ index: Int) -> Bool { secured.value.contains(index) }

    /// `credentials`: the (user, password) AUTH PLAIN must carry; nil accepts mail without AUTH.
    public static func start(credentials: (String, String)? = nil, tls: Bool = false) async throws -> FakeSMTP {
        let box = Locked<FakeSMTP?>(nil)
        var context: NIOSSLContext?
        var pem: String?
        if tls {
            let key = P256.Signing.PrivateKey()
            let name = try DistinguishedName { CommonName("fake.smtp") }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(86_400), issuer: name,
                subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    SubjectAlternativeNames([.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])), .dnsName("localhost")])
                }, issuerPrivateKey: .init(key))
            let certificatePEM = try certificate.serializeAsPEM().pemString
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem))],
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem)))
            context = try NIOSSLContext(configuration: configuration)
            pem = certificatePEM
        }
        let tlsContext = context
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let fake = FakeSMTP(port: server.channel.localAddress?.port ?? 0, channel: server.channel, certificatePEM: pem)
        box.value = fake
        Task {
            try? await server.executeThenClose { connections in
                for try await connection in connections {
                    Task { try? await fake.serve(connection, credentials: credentials, tls: tlsContext) }
                }
            }
        }
        return fake
    }

    public func shutdown() async {
        try? await channel.close()
    }

    public var messages: [Message] { received.value }

    /// Waits up to `seconds` for `count` messages.
    public func waitForMessages(_ count: Int, seconds: Double = 10) async -> [Message] {
        await Polling.until(timeout: .milliseconds(Int64(seconds * 1000)), every: .milliseconds(20)) {
            let messages = received.value
            return messages.count >= count ? messages : nil
        } ?? received.value
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, credentials: (String, String)?, tls: NIOSSLContext?)
        async throws
    {
        let underlying = connection.channel
        try await connection.executeThenClose { inbound, outbound in
            var encrypted = false
            func reply(_ text: String) async throws { try await outbound.write(ByteBuffer(string: text + "\r\n")) }
            try await reply("220 fake.smtp ESMTP ready")
            var buffer = ByteBuffer()
            var iterator = inbound.makeAsyncIterator()
            var from: String?
            var to: [String] = []
            var user: String?
            var inData = false
            var data: [String] = []
            while true {
                guard let end = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                    guard var more = try await iterator.next() else { return }
                    buffer.writeBuffer(&more)
                    continue
                }
                let view = buffer.readableBytesView
                var line = buffer.readString(length: view.distance(from: view.startIndex, to: end) + 1) ?? ""
                // "\r\n" is one Character in Swift: trim by scalars.
                while let last = line.unicodeScalars.last, last == "\n" || last == "\r" { line.unicodeScalars.removeLast() }
                if inData {
                    if line == "." {
                        inData = false
                        let message = Message(from: from ?? "", to: to, data: data.joined(separator: "\r\n") + "\r\n", user: user)
                        let index = received.withLock { received in
                            received.append(message)
                            return received.count - 1
                        }
                        if encrypted { secured.withLock { _ = $0.insert(index) } }
                        (from, to, data) = (nil, [], [])
                        try await reply("250 2.0.0 Ok: queued")
                    } else {
                        data.append(line.hasPrefix("..") ? String(line.dropFirst()) : line)
                    }
                    continue
                }
                let upper = line.uppercased()
                if upper.hasPrefix("EHLO") || upper.hasPrefix("HELO") {
                    var features = ["fake.smtp"]
                    if tls != nil, !encrypted { features.append("STARTTLS") }
                    if credentials != nil, tls == nil || encrypted { features.append("AUTH PLAIN") }
                    features.append("8BITMIME")
                    let lines = features.enumerated().map { ($0.offset == features.count - 1 ? "250 " : "250-") + $0.element }
                    try await reply(lines.joined(separator: "\r\n"))
                } else if upper == "STARTTLS", let tls, !encrypted {
                    // The reply goes out in clear and the TLS handler goes in within one turn of
                    // the event loop, as a relay does: a client's ClientHello read in between would
                    // otherwise be taken for a plain-text command.
                    try await underlying.eventLoop.submit {
                        underlying.writeAndFlush(ByteBuffer(string: "220 2.0.0 Ready to start TLS\r\n"), promise: nil)
                        try underlying.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
                    }.get()
                    encrypted = true
                    (from, to, user) = (nil, [], nil)
                } else if upper.hasPrefix("AUTH PLAIN ") {
                    guard tls == nil || encrypted else {
                        try await reply("538 5.7.11 Encryption required for requested authentication mechanism")
                        continue
                    }
                    let decoded = Data(base64Encoded: String(line.dropFirst("AUTH PLAIN ".count))).map { String(decoding: $0, as: UTF8.self) }
                    let parts = decoded?.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init) ?? []
                    if let credentials, parts.count == 3, parts[1] == credentials.0, parts[2] == credentials.1 {
                        user = parts[1]
                        try await reply("235 2.7.0 Authentication successful")
                    } else {
                        try await reply("535 5.7.8 Error: authentication failed")
                    }
                } else if upper.hasPrefix("MAIL FROM:") {
                    if credentials != nil, user == nil {
                        try await reply("530 5.7.0 Authentication required")
                    } else {
                        from = Self.address(line)
                        try await reply("250 2.1.0 Ok")
                    }
                } else if upper.hasPrefix("RCPT TO:") {
                    guard from != nil else {
                        try await reply("503 5.5.1 Error: need MAIL command")
                        continue
                    }
                    to.append(Self.address(line))
                    try await reply("250 2.1.5 Ok")
                } else if upper == "DATA" {
                    guard !to.isEmpty else {
                        try await reply("503 5.5.1 Error: need RCPT command")
                        continue
                    }
                    inData = true
                    try await reply("354 End data with <CR><LF>.<CR><LF>")
                } else if upper == "RSET" {
                    (from, to, data) = (nil, [], [])
                    try await reply("250 2.0.0 Ok")
                } else if upper == "QUIT" {
                    try await reply("221 2.0.0 Bye")
                    return
                } else {
                    try await reply("500 5.5.2 Error: command not recognized")
                }
            }
        }
    }

    private static func address(_ line: String) -> String {
        guard let open = line.firstIndex(of: "<"), let close = line.lastIndex(of: ">"), open < close else { return "" }
        return String(line[line.index(after: open)..<close])
    }
}
