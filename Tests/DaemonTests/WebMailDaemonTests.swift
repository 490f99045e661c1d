import Foundation
import NIOHTTP1
import Protocol
import Testing
import VectortTesting

extension DaemonSuite {
    @Suite("password reset and email verification by mail, through SMTP and SendGrid fakes")
    struct WebMailDaemonTests {
        /// The token in a mailed link (`…#token=XYZ`).
        static func token(in text: String) -> String? {
            guard let range = text.range(of: "#token=") else { return nil }
            return String(text[range.upperBound...].prefix { !$0.isWhitespace })
        }

        @Test func aResetLinkWorksOnceAndEndsEveryOldSessionAndUnknownEmailsGetTheSameAnswer() async throws {
            let password = "relay-password-\(UUID().uuidString.prefix(8))"
            let smtp = try await FakeSMTP.start(credentials: ("vectortd", password))
            defer { Task { await smtp.shutdown() } }
            let api = try await WebAPI.start(
                config: """
                    api:
                      frontend_url: "https://app.example.com"
                    mail:
                      from: "noreply@vectort.test"
                      smtp_url: "smtp://vectortd@127.0.0.1:\(smtp.port)"

                    """,
                credentials: ["smtp-password": password])
            let email = "rosa-\(UUID().uuidString.prefix(6))@example.com"
            let (_, oldSession) = try await api.signUp(email)

            // Registration mailed a verification link.
            let welcome = try #require(await smtp.waitForMessages(1).first, "\(api.daemon.output.suffix(3000))")
            #expect(welcome.to == [email] && welcome.from == "noreply@vectort.test" && welcome.user == "vectortd")
            #expect(welcome.header("Subject") == "Confirm your email address")
            #expect(welcome.body.contains("https://app.example.com/auth/verify#token="))
            let verifyToken = try #require(Self.token(in: welcome.body))
            let verified = try await api.call(.POST, "/api/auth/verify", ["token": .string(verifyToken)])
            #expect(verified.status == 200 && verified.json["email"]?.stringValue == email)
            #expect(try await api.call(.POST, "/api/auth/verify", ["token": .string(verifyToken)]).status == 400, "single use")

            let unknown = try await api.call(.POST, "/api/auth/password-reset", ["email": "nobody@example.com"])
            let known = try await api.call(.POST, "/api/auth/password-reset", ["email": .string(email.uppercased())])
            #expect(unknown.status == 202 && known.status == 202)
            #expect(unknown.json == known.json, "the same answer either way")
            let mails = await smtp.waitForMessages(2)
            try await Task.sleep(for: .milliseconds(300))
            #expect(smtp.messages.count == 2, "no mail for an unknown address")
            let reset = try #require(mails.last)
            #expect(reset.to == [email] && reset.header("Subject") == "Reset your password")
            let resetToken = try #require(Self.token(in: reset.body))

            let short = try await api.call(.POST, "/api/auth/password-reset/confirm", ["token": .string(resetToken), "password": "short"])
            #expect(short.status == 400, "a short password keeps the link usable")
            let done = try await api.call(
                .POST, "/api/auth/password-reset/confirm", ["token": .string(resetToken), "password": "a whole new password"])
            #expect(done.status == 204)
            #expect(try await api.call(.GET, "/api/auth/me", token: oldSession).status == 401, "old sessions ended")
            let again = try await api.call(
                .POST, "/api/auth/password-reset/confirm", ["token": .string(resetToken), "password": "yet another password"])
            #expect(again.status == 400 && again.json["error"]?["parameters"]?["parameter"] == "token")
            #expect(try await api.call(.POST, "/api/auth/login", ["email": .string(email), "password": "a whole new password"]).status == 200)
            #expect(try await api.call(.POST, "/api/auth/login", ["email": .string(email), "password": "correct horse battery"]).status == 401)
        }

        @Test func aRemoteRelayGetsThePasswordOnlyInsideSTARTTLS() async throws {
            let password = "relay-password-\(UUID().uuidString.prefix(8))"
            let smtp = try await FakeSMTP.start(credentials: ("vectortd", password), tls: true)
            defer { Task { await smtp.shutdown() } }
            let directory = try TemporaryDirectory(prefix: "vtsmtp")
            let ca = try directory.write("relay-ca.pem", try #require(smtp.certificatePEM))
            let api = try await WebAPI.start(
                config: """
                    mail:
                      from: "noreply@vectort.test"
                      smtp_url: "smtp://vectortd@127.0.0.1:\(smtp.port)"
                      smtp_ca_file: "\(ca)"

                    """,
                credentials: ["smtp-password": password])
            let email = "tls-\(UUID().uuidString.prefix(6))@example.com"
            _ = try await api.signUp(email)
            let message = try #require(await smtp.waitForMessages(1).first, "\(api.daemon.output.suffix(2000))")
            #expect(message.to == [email] && message.user == "vectortd")
            #expect(smtp.wasEncrypted(0), "the message and the password went inside TLS")

            // Without the relay's certificate trusted, nothing is sent: no password in clear, no mail.
            let untrusted = try await WebAPI.start(
                config: """
                    mail:
                      from: "noreply@vectort.test"
                      smtp_url: "smtp://vectortd@127.0.0.1:\(smtp.port)"

                    """,
                credentials: ["smtp-password": password])
            _ = try await untrusted.signUp("tls2-\(UUID().uuidString.prefix(6))@example.com")
            try await Task.sleep(for: .milliseconds(500))
            #expect(smtp.messages.count == 1)
            #expect(untrusted.daemon.output.contains("mail could not be sent"), "\(untrusted.daemon.output.suffix(1500))")
        }

        @Test func sendGridCarriesTheMailWhenConfigured() async throws {
            let sendgrid = try await FakeSendGrid.start()
            defer { Task { await sendgrid.shutdown() } }
            let api = try await WebAPI.start(
                config: """
                    mail:
                      from: "noreply@vectort.test"
                      transport: sendgrid
                      sendgrid_api_base: "\(sendgrid.baseURL)"

                    """,
                credentials: ["sendgrid-api-key": sendgrid.apiKey])
            let email = "sg-\(UUID().uuidString.prefix(6))@example.com"
            _ = try await api.signUp(email)
            _ = try await api.call(.POST, "/api/auth/password-reset", ["email": .string(email)])
            let messages = await sendgrid.waitForMessages(2)
            #expect(messages.map(\.subject) == ["Confirm your email address", "Reset your password"])
            #expect(messages.allSatisfy { $0.to == email && $0.from == "noreply@vectort.test" })
            #expect(!api.daemon.output.contains(sendgrid.apiKey), "the key reached the log")
        }
    }
}
