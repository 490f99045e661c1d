import Foundation
import Testing
import VectortAPI

#if canImport(Glibc)
import Glibc
#endif

@Suite("SMTP mailer limits")
struct SMTPMailerTests {
    /// A relay that takes the connection and never says a word: the send fails at the
    /// exchange limit instead of waiting forever.
    @Test func aRelayThatNeverAnswersFailsTheSendAtTheLimit() async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(fd, 4) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))

        let mailer = try SMTPMailer(
            url: "smtp://127.0.0.1:\(port)", password: nil, from: "noreply@vectort.test", exchangeLimit: .milliseconds(300))
        let outcome: String
        do {
            try await mailer.send(Mail(to: "someone@example.com", subject: "Hello", text: "hi"))
            outcome = "sent"
        } catch {
            outcome = "\(error)"
        }
        // The limit, not the connection, ended it (no wall-clock bound here: a busy machine may
        // take its time to get there).
        #expect(outcome.contains("did not finish the exchange"), "\(outcome)")
    }
}
