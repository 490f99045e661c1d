import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Protocol
import VectortCore

/// Render's API: Render builds from a repository, so the version is exported to GitHub first;
/// then a static site service is created once per project (found again by its name) or given a
/// deploy of the exported commit, and the deploy's `status` is polled. A deploy is found again
/// after a crash by the commit it builds.
struct RenderClient: DeployPlatformClient {
    let http: HTTPClient
    let base: String
    let token: String
    /// The token is the user's connected account, not the operator's credential.
    var connected = false
    /// `ownerId`; empty: the token's first owner.
    let owner: String

    func create(_ job: DeployJobContext) async throws -> String {
        let export = try await job.export()
        if let service = try await findService(job.name) {
            if !job.env.isEmpty {
                // Replaces the service's variables with the deployment's, before its build reads them.
                let (status, value, headers) = try await call(.PUT, "/services/\(service)/env-vars", Self.envVars(job.env))
                guard (200..<300).contains(status) else { throw failure(status, value, headers) }
            }
            return try await deploy(service: service, commit: export.commitSHA)
        }
        let sources = try await job.sources()
        let (build, publish) = Self.buildSettings(sources, framework: job.framework)
        var ownerID = owner
        if ownerID.isEmpty {
            let (status, value, headers) = try await call(.GET, "/owners?limit=1", nil)
            guard (200..<300).contains(status) else { throw failure(status, value, headers) }
            ownerID = value.arrayValue?.first?["owner"]?["id"]?.stringValue ?? ""
        }
        var body: [String: JSONValue] = [
            "type": "static_site", "name": .string(job.name), "ownerId": .string(ownerID),
            "repo": .string(export.htmlURL), "branch": .string(export.branch), "autoDeploy": "no",
            "serviceDetails": ["buildCommand": .string(build), "publishPath": .string(publish)],
        ]
        if !job.env.isEmpty { body["envVars"] = Self.envVars(job.env) }
        let (status, value, headers) = try await call(.POST, "/services", .object(body))
        guard (200..<300).contains(status), let service = value["service"]?["id"]?.stringValue,
            let deploy = value["deployId"]?.stringValue
        else { throw failure(status, value, headers) }
        return "\(service)/\(deploy)"
    }

    func lookup(_ job: DeployJobContext) async throws -> String? {
        guard let service = try await findService(job.name) else { return nil }
        let commit = try await job.export().commitSHA
        let (status, value, headers) = try await call(.GET, "/services/\(service)/deploys?limit=20", nil)
        guard (200..<300).contains(status) else { throw failure(status, value, headers) }
        let found = value.arrayValue?.compactMap { $0["deploy"] }.first { $0["commit"]?["id"]?.stringValue == commit }
        return found?["id"]?.stringValue.map { "\(service)/\($0)" }
    }

    func status(_ platformID: String) async throws -> (DeploymentMachine.Remote, url: String?, reason: String?) {
        let parts = platformID.split(separator: "/").map(String.init)
        guard parts.count == 2 else { throw DeployFailure.refused("render: unknown deploy \(platformID)") }
        let (status, value, headers) = try await call(.GET, "/services/\(parts[0])/deploys/\(parts[1])", nil)
        guard (200..<300).contains(status) else { throw failure(status, value, headers) }
        switch value["status"]?.stringValue ?? "" {
        case "live", "deactivated":
            let (_, service, _) = try await call(.GET, "/services/\(parts[0])", nil)
            return (.ready, service["serviceDetails"]?["url"]?.stringValue, nil)
        case "build_failed", "update_failed", "pre_deploy_failed":
            return (.failed, nil, "render: \(value["status"]?.stringValue ?? "failed")")
        case "canceled": return (.cancelled, nil, "cancelled on Render")
        case "build_in_progress", "update_in_progress", "pre_deploy_in_progress": return (.building, nil, nil)
        default: return (.pending, nil, nil)
        }
    }

    func cancel(_ platformID: String) async throws {
        let parts = platformID.split(separator: "/").map(String.init)
        guard parts.count == 2 else { return }
        let (status, value, headers) = try await call(.POST, "/services/\(parts[0])/deploys/\(parts[1])/cancel", nil)
        guard (200..<300).contains(status) || status == 409 else { throw failure(status, value, headers) }
    }

    static func envVars(_ env: [String: String]) -> JSONValue {
        .array(env.sorted { $0.key < $1.key }.map { ["key": .string($0.key), "value": .string($0.value)] })
    }

    /// A Vite app builds with npm into `dist`; a plain static site is published as it is.
    /// `framework` (`vite` or `static`) decides instead of the app's `package.json`.
    static func buildSettings(_ sources: [ProjectFile], framework: String? = nil) -> (build: String, publish: String) {
        switch framework {
        case "vite": return ("npm ci && npm run build", "dist")
        case "static": return ("", "./")
        default: break
        }
        guard let package = sources.first(where: { $0.path == "package.json" }),
            let scripts = (try? JSONDecoder().decode(JSONValue.self, from: package.data))?["scripts"],
            scripts["build"] != nil
        else { return ("", "./") }
        return ("npm ci && npm run build", "dist")
    }

    private func findService(_ name: String) async throws -> String? {
        let query = name.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? name
        let (status, value, headers) = try await call(.GET, "/services?name=\(query)&limit=20", nil)
        guard (200..<300).contains(status) else { throw failure(status, value, headers) }
        return value.arrayValue?.compactMap { $0["service"] }.first { $0["name"]?.stringValue == name }?["id"]?.stringValue
    }

    private func deploy(service: String, commit: String) async throws -> String {
        let (status, value, headers) = try await call(.POST, "/services/\(service)/deploys", ["commitId": .string(commit)])
        if status == 202 {
            // Another deploy is running: this one is queued behind it.
            let (_, queued, _) = try await call(.GET, "/services/\(service)/deploys?status=queued&limit=1", nil)
            if let id = queued.arrayValue?.first?["deploy"]?["id"]?.stringValue { return "\(service)/\(id)" }
            throw DeployFailure.transient("render: the deploy is queued behind another", retryAfter: 5)
        }
        guard (200..<300).contains(status), let id = value["id"]?.stringValue else { throw failure(status, value, headers) }
        return "\(service)/\(id)"
    }

    private func call(_ method: HTTPMethod, _ path: String, _ body: JSONValue?) async throws -> (Int, JSONValue, HTTPHeaders) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "vectortd")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        return try await PlatformHTTP.execute(http, request, platform: "Render")
    }

    private func failure(_ status: Int, _ value: JSONValue, _ headers: HTTPHeaders) -> DeployFailure {
        let text = "render: \(value["message"]?.stringValue ?? "HTTP \(status)")"
        switch status {
        case 429, 500...: return .transient(text, retryAfter: DeployRetry.after(headers))
        case 401, 403: return .refused("\(text) (\(PlatformHTTP.refusal("render", credential: "render-api-key", connected: connected)))")
        default: return .refused(text)
        }
    }
}
