import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Protocol
import VectortCore

/// Netlify's API: one site per project (named after it, so a retry finds it instead of making
/// another), a digest deploy of the built site (`files: {path: sha1}`), only the `required`
/// contents uploaded, `state` polled. Netlify serves the files as they are: what goes is our
/// build's output, with a `_redirects` so client-side routes survive a reload.
struct NetlifyClient: DeployPlatformClient {
    let http: HTTPClient
    let base: String
    let token: String
    /// The token is the user's connected account, not the operator's credential.
    var connected = false
    /// The account slug for a team; empty: the token's personal account.
    let account: String

    func create(_ job: DeployJobContext) async throws -> String {
        let deployment = job.id
        let site = try await ensureSite(job.name)
        let all = Self.withRedirects(try await job.files())
        var digests: [String: JSONValue] = [:]
        for file in all { digests["/" + file.path] = .string(PlatformHTTP.sha1(file.data)) }
        let (status, value, headers) = try await call(
            .POST, "/sites/\(site)/deploys", query: "title=\(deployment)", body: .json(["files": .object(digests)]))
        guard (200..<300).contains(status), let id = value["id"]?.stringValue else { throw failure(status, value, headers) }
        try await upload(deploy: id, required: value["required"], files: all)
        return "\(site)/\(id)"
    }

    func lookup(_ job: DeployJobContext) async throws -> String? {
        let deployment = job.id
        guard let site = try await findSite(job.name) else { return nil }
        let (status, value, headers) = try await call(.GET, "/sites/\(site)/deploys", query: "per_page=100", body: nil)
        guard (200..<300).contains(status) else { throw failure(status, value, headers) }
        guard let found = value.arrayValue?.first(where: { $0["title"]?.stringValue == deployment }),
            let id = found["id"]?.stringValue
        else { return nil }
        // Created before a crash: what it still requires is uploaded now.
        if ["uploading", "prepared", "new"].contains(found["state"]?.stringValue ?? "") {
            let (_, current, _) = try await call(.GET, "/deploys/\(id)", query: nil, body: nil)
            try await upload(deploy: id, required: current["required"], files: Self.withRedirects(try await job.files()))
        }
        return "\(site)/\(id)"
    }

    func status(_ platformID: String) async throws -> (DeploymentMachine.Remote, url: String?, reason: String?) {
        let deploy = platformID.split(separator: "/").last.map(String.init) ?? platformID
        let (status, value, headers) = try await call(.GET, "/deploys/\(deploy)", query: nil, body: nil)
        guard (200..<300).contains(status) else { throw failure(status, value, headers) }
        let url = value["ssl_url"]?.stringValue ?? value["deploy_ssl_url"]?.stringValue
        switch value["state"]?.stringValue ?? "" {
        case "ready": return (.ready, url, nil)
        case "error", "rejected": return (.failed, url, "netlify: \(value["error_message"]?.stringValue ?? value["state"]?.stringValue ?? "error")")
        case "building", "processing", "processed", "uploaded", "preparing", "prepared", "uploading": return (.building, url, nil)
        default: return (.pending, url, nil)
        }
    }

    func cancel(_ platformID: String) async throws {
        let deploy = platformID.split(separator: "/").last.map(String.init) ?? platformID
        let (status, value, headers) = try await call(.POST, "/deploys/\(deploy)/cancel", query: nil, body: nil)
        guard (200..<300).contains(status) || status == 422 else { throw failure(status, value, headers) }
    }

    // MARK: Sites and uploads

    private func findSite(_ name: String) async throws -> String? {
        let (status, value, headers) = try await call(.GET, "/sites/\(name).netlify.app", query: nil, body: nil)
        if status == 404 { return nil }
        guard (200..<300).contains(status) else { throw failure(status, value, headers) }
        return value["id"]?.stringValue
    }

    private func ensureSite(_ name: String) async throws -> String {
        if let site = try await findSite(name) { return site }
        let path = account.isEmpty ? "/sites" : "/\(account)/sites"
        let (status, value, headers) = try await call(.POST, path, query: nil, body: .json(["name": .string(name)]))
        if (200..<300).contains(status), let id = value["id"]?.stringValue { return id }
        // Made by an earlier attempt whose answer was lost.
        if status == 422, let site = try await findSite(name) { return site }
        throw failure(status, value, headers)
    }

    private func upload(deploy: String, required: JSONValue?, files: [ProjectFile]) async throws {
        let needed = Set((required?.arrayValue ?? []).compactMap(\.stringValue))
        for file in files where needed.contains(PlatformHTTP.sha1(file.data)) {
            let path = file.path.split(separator: "/").map { String($0).addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }
                .joined(separator: "/")
            let (status, value, headers) = try await call(.PUT, "/deploys/\(deploy)/files/\(path)", query: nil, body: .bytes(file.data))
            guard (200..<300).contains(status) else { throw failure(status, value, headers) }
        }
    }

    static func withRedirects(_ files: [ProjectFile]) -> [ProjectFile] {
        guard !files.contains(where: { $0.path == "_redirects" }) else { return files }
        return files + [ProjectFile(path: "_redirects", contents: "/*    /index.html   200\n")]
    }

    // MARK: HTTP

    enum Body {
        case json(JSONValue)
        case bytes(Data)
    }

    private func call(_ method: HTTPMethod, _ path: String, query: String?, body: Body?) async throws -> (Int, JSONValue, HTTPHeaders) {
        var request = HTTPClientRequest(url: base + path + (query.map { "?" + $0 } ?? ""))
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "User-Agent", value: "vectortd")
        switch body {
        case .json(let value)?:
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(value)))
        case .bytes(let data)?:
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            request.body = .bytes(ByteBuffer(bytes: data))
        case nil:
            break
        }
        return try await PlatformHTTP.execute(http, request, platform: "Netlify")
    }

    private func failure(_ status: Int, _ value: JSONValue, _ headers: HTTPHeaders) -> DeployFailure {
        let text = "netlify: \(value["message"]?.stringValue ?? "HTTP \(status)")"
        switch status {
        case 429, 500...: return .transient(text, retryAfter: DeployRetry.after(headers) ?? (status == 429 ? 5 : nil))
        case 401, 403: return .refused("\(text) (\(PlatformHTTP.refusal("netlify", credential: "netlify-token", connected: connected)))")
        default: return .refused(text)
        }
    }
}
