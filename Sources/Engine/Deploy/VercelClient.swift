import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Protocol
import VectortCore

/// What a platform call can end in besides an answer.
enum DeployFailure: Error, Equatable {
    /// Try again later (network, 5xx, 429); `retryAfter` seconds when the platform said.
    case transient(String, retryAfter: Double?)
    /// Retrying cannot help: a refused token, a refused request, a quota.
    case refused(String)
}

/// What a platform call knows of the job it works for.
struct DeployJobContext: Sendable {
    /// Our deployment id, which tags the platform's deployment.
    var id: String
    /// The platform project, site or service name.
    var name: String
    /// `settings.env`: service environment variables where the platform builds (Render).
    var env: [String: String] = [:]
    /// `settings.framework` (Render): `vite` or `static`, instead of reading `package.json`.
    var framework: String? = nil
    /// The version's built site.
    var files: @Sendable () async throws -> [ProjectFile]
    /// The version's sources exported to GitHub (for platforms that build from a repository).
    var export: @Sendable () async throws -> GitHubExportResult
    /// The version's sources.
    var sources: @Sendable () async throws -> [ProjectFile]
}

/// A platform the poller drives.
protocol DeployPlatformClient: Sendable {
    /// Creates the deployment, tagged with our id; returns the platform's id.
    func create(_ job: DeployJobContext) async throws -> String
    /// The platform's id of the deployment tagged with our id, if it was created (finishing
    /// what the creation left undone, such as uploads).
    func lookup(_ job: DeployJobContext) async throws -> String?
    func status(_ platformID: String) async throws -> (DeploymentMachine.Remote, url: String?, reason: String?)
    func cancel(_ platformID: String) async throws
}

/// Vercel's REST API: a static deployment of the built site (files inline, or by SHA-1 upload
/// above the inline size or when Vercel answers `missing_files`), `readyState` polled.
struct VercelClient: DeployPlatformClient {
    let http: HTTPClient
    let base: String
    let token: String
    /// The token is the user's connected account, not the operator's credential.
    var connected = false
    let teamID: String
    /// Above this many bytes the files go by SHA-1 upload instead of inline.
    var inlineLimit = 4 * 1024 * 1024

    func create(_ job: DeployJobContext) async throws -> String {
        let deployment = job.id
        let name = job.name
        var site = try await job.files()
        // Client-side routes survive a reload: every path without a file serves index.html.
        if !site.contains(where: { $0.path == "vercel.json" }) {
            site.append(ProjectFile(path: "vercel.json", contents: #"{"rewrites": [{"source": "/(.*)", "destination": "/index.html"}]}"# + "\n"))
        }
        let inline = site.reduce(0) { $0 + $1.byteCount } <= inlineLimit
        let entries: [JSONValue] = site.map { file in
            if inline {
                return ["file": .string(file.path), "data": .string(file.data.base64EncodedString()), "encoding": "base64"]
            }
            return ["file": .string(file.path), "sha": .string(PlatformHTTP.sha1(file.data)), "size": .int(Int64(file.byteCount))]
        }
        let body: JSONValue = [
            "name": .string(name), "files": .array(entries), "target": "production",
            "projectSettings": ["framework": .null], "meta": ["vectortd_deployment": .string(deployment)],
        ]
        for _ in 0..<3 {
            let (status, value, headers) = try await call(.POST, "/v13/deployments", query: "skipAutoDetectionConfirmation=1", body: body)
            if (200..<300).contains(status), let id = value["id"]?.stringValue { return id }
            if status == 400, value["error"]?["code"]?.stringValue == "missing_files" {
                let missing = Set((value["error"]?["missing"]?.arrayValue ?? []).compactMap(\.stringValue))
                for file in site where missing.contains(PlatformHTTP.sha1(file.data)) { try await upload(file) }
                continue
            }
            throw failure(status, value, headers)
        }
        throw DeployFailure.transient("Vercel still reported missing files after uploading them", retryAfter: nil)
    }

    func lookup(_ job: DeployJobContext) async throws -> String? {
        let (status, value, headers) = try await call(.GET, "/v6/deployments", query: "meta-vectortd_deployment=\(job.id)&limit=1", body: nil)
        guard (200..<300).contains(status) else { throw failure(status, value, headers) }
        let first = value["deployments"]?.arrayValue?.first
        return first?["uid"]?.stringValue ?? first?["id"]?.stringValue
    }

    func status(_ platformID: String) async throws -> (DeploymentMachine.Remote, url: String?, reason: String?) {
        let (status, value, headers) = try await call(.GET, "/v13/deployments/\(platformID)", query: nil, body: nil)
        guard (200..<300).contains(status) else { throw failure(status, value, headers) }
        let url = value["url"]?.stringValue.map { $0.hasPrefix("http") ? $0 : "https://" + $0 }
        switch value["readyState"]?.stringValue ?? value["status"]?.stringValue ?? "" {
        case "READY": return (.ready, url, nil)
        case "BUILDING": return (.building, url, nil)
        case "ERROR":
            let code = value["errorCode"]?.stringValue ?? "ERROR"
            return (.failed, url, "vercel: \(code)\(value["errorMessage"]?.stringValue.map { " - \($0)" } ?? "")")
        case "CANCELED": return (.cancelled, url, "cancelled on Vercel")
        default: return (.pending, url, nil)
        }
    }

    func cancel(_ platformID: String) async throws {
        let (status, value, headers) = try await call(.PATCH, "/v12/deployments/\(platformID)/cancel", query: nil, body: nil)
        guard (200..<300).contains(status) || status == 400 || status == 409 else { throw failure(status, value, headers) }
    }

    private func upload(_ file: ProjectFile) async throws {
        var request = HTTPClientRequest(url: url("/v2/files", query: nil))
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.headers.add(name: "x-vercel-digest", value: PlatformHTTP.sha1(file.data))
        request.body = .bytes(ByteBuffer(bytes: file.data))
        let (status, value, headers) = try await execute(request)
        guard (200..<300).contains(status) else { throw failure(status, value, headers) }
    }

    private func url(_ path: String, query: String?) -> String {
        var parts: [String] = []
        if let query { parts.append(query) }
        if !teamID.isEmpty { parts.append("teamId=\(teamID)") }
        return base + path + (parts.isEmpty ? "" : "?" + parts.joined(separator: "&"))
    }

    private func call(_ method: HTTPMethod, _ path: String, query: String?, body: JSONValue?) async throws
        -> (Int, JSONValue, HTTPHeaders)
    {
        var request = HTTPClientRequest(url: url(path, query: query))
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "User-Agent", value: "vectortd")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        return try await execute(request)
    }

    private func execute(_ request: HTTPClientRequest) async throws -> (Int, JSONValue, HTTPHeaders) {
        try await PlatformHTTP.execute(http, request, platform: "Vercel")
    }

    private func failure(_ status: Int, _ value: JSONValue, _ headers: HTTPHeaders) -> DeployFailure {
        let code = value["error"]?["code"]?.stringValue ?? "HTTP \(status)"
        let message = value["error"]?["message"]?.stringValue ?? ""
        let text = "vercel: \(code)\(message.isEmpty ? "" : " - \(message)")"
        switch status {
        case 429, 500...:
            return .transient(text, retryAfter: DeployRetry.after(headers))
        case 401, 403:
            return .refused("\(text) (\(PlatformHTTP.refusal("vercel", credential: "vercel-token", connected: connected)))")
        default:
            return .refused(text)
        }
    }

}

/// One platform request: the status, the body as JSON (null when it is not), the headers; a
/// request that could not be made is a transient failure.
enum PlatformHTTP {
    /// What to do about a refused token: the operator sets the credential, a user reconnects.
    static func refusal(_ platform: String, credential: String, connected: Bool) -> String {
        connected
            ? "the connected \(platform) account's token is refused; connect the account again (Users.ConnectAccount)"
            : "the \(credential) is refused; set a valid one"
    }

    /// The hex SHA-1 of a file's bytes, by which Vercel and Netlify name contents.
    static func sha1(_ data: Data) -> String {
        TokenEncoding.hex(Insecure.SHA1.hash(data: data))
    }

    static func execute(_ http: HTTPClient, _ request: HTTPClientRequest, platform: String) async throws
        -> (Int, JSONValue, HTTPHeaders)
    {
        do {
            let response = try await http.execute(request, timeout: .seconds(60))
            let bytes = try await response.body.collect(upTo: 16 << 20)
            let value = (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes.readableBytesView))) ?? .null
            return (Int(response.status.code), value, response.headers)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw DeployFailure.transient("cannot reach \(platform): \(error)", retryAfter: nil)
        }
    }
}

enum DeployRetry {
    /// `Retry-After` (seconds or an HTTP date), else a rate-limit reset in epoch seconds.
    static func after(_ headers: HTTPHeaders) -> Double? {
        if let value = headers.first(name: "Retry-After") {
            if let seconds = Double(value) { return seconds }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            if let date = formatter.date(from: value) { return max(0, date.timeIntervalSinceNow) }
        }
        for name in ["X-RateLimit-Reset", "Ratelimit-Reset"] {
            if let value = headers.first(name: name), let reset = Double(value) {
                return reset > 1_000_000_000 ? max(0, reset - Date().timeIntervalSince1970) : reset
            }
        }
        return nil
    }
}
