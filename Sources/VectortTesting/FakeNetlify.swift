import Crypto
public import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import Protocol
public import VectortCore

/// A loopback Netlify: sites (created once by name, 422 when the name is taken, found by
/// `<name>.netlify.app`), digest deploys answering the SHA-1s they still `required`, file
/// uploads checked against their digest, `state` advancing uploading → processing → ready once
/// everything required arrived, deploys listed per site with their `title`, cancel, and
/// Netlify's `{code, message}` errors.
public final class FakeNetlify: Sendable {
    public struct Deploy: Sendable {
        public var id: String
        public var site: String
        public var title: String?
        public var digests: [String: String]
        public var files: [String: [UInt8]] = [:]
        public var state = "uploading"
        public var polls = 0
        /// The account whose token created it.
        public var account = "operator"
    }

    struct State {
        var sites: [String: (id: String, name: String)] = [:]
        var deploys: [String: Deploy] = [:]
        var siteCreates = 0
        var deployCreates = 0
        var known: [String: [UInt8]] = [:]
    }

    public let token: String
    /// The tokens accepted: the operator's, and users' own accounts a test adds.
    public let tokens: FakeTokens
    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    let state: Locked<State>
    private let task: Task<Void, any Error>

    private init(token: String, tokens: FakeTokens, port: Int, state: Locked<State>, task: Task<Void, any Error>) {
        self.token = token
        self.tokens = tokens
        self.port = port
        self.state = state
        self.task = task
    }

    public static func start(token: String = "nfp_\(UUID().uuidString.prefix(10))") async throws -> FakeNetlify {
        let state = Locked(State())
        let router = Router()
        let tokens = FakeTokens(token, account: "operator")
        router.addMiddleware { AuthMiddleware(tokens: tokens) }
        router.get("/user") { request, _ in
            let account = tokens.account(request) ?? ""
            return FakeHTTP.reply(
                200, ["id": .string("u-\(account)"), "email": .string("\(account)@example.com"), "full_name": .string(account)])
        }
        router.get("/sites/:site") { _, context in
            let key = context.parameters.get("site") ?? ""
            return state.withLock { state in
                let name = key.hasSuffix(".netlify.app") ? String(key.dropLast(".netlify.app".count)) : nil
                guard let site = state.sites.values.first(where: { $0.id == key || $0.name == name }) else {
                    return FakeHTTP.reply(404, ["code": 404, "message": "Not Found"])
                }
                return FakeHTTP.reply(200, siteJSON(site.id, site.name))
            }
        }
        router.post("/sites") { request, _ in
            let body = try await FakeHTTP.json(request)
            return state.withLock { state in
                guard let name = body["name"]?.stringValue, !name.isEmpty else { return FakeHTTP.reply(422, ["code": 422, "message": "name is required"]) }
                if state.sites.values.contains(where: { $0.name == name }) {
                    return FakeHTTP.reply(422, ["code": 422, "message": "subdomain must be unique"])
                }
                let id = UUID().uuidString.lowercased()
                state.sites[id] = (id, name)
                state.siteCreates += 1
                return FakeHTTP.reply(201, siteJSON(id, name))
            }
        }
        router.post("/sites/:site/deploys") { request, context in
            let site = context.parameters.get("site") ?? ""
            let title = request.uri.queryParameters["title"].map(String.init)
            let account = tokens.account(request) ?? ""
            let body = try await FakeHTTP.json(request)
            return state.withLock { state in
                guard state.sites[site] != nil else { return FakeHTTP.reply(404, ["code": 404, "message": "Not Found"]) }
                var digests: [String: String] = [:]
                for (path, sha) in body["files"]?.objectValue ?? [:] {
                    digests[path.hasPrefix("/") ? String(path.dropFirst()) : path] = sha.stringValue
                }
                var deploy = Deploy(id: FakeHTTP.random(24, from: "0123456789abcdef"), site: site, title: title, digests: digests)
                deploy.account = account
                for (path, sha) in digests { if let known = state.known[sha] { deploy.files[path] = known } }
                state.deploys[deploy.id] = deploy
                state.deployCreates += 1
                return FakeHTTP.reply(200, deployJSON(deploy, state.sites[site]?.name ?? ""))
            }
        }
        router.get("/sites/:site/deploys") { _, context in
            let site = context.parameters.get("site") ?? ""
            return state.withLock { state in
                let list = state.deploys.values.filter { $0.site == site }.map { deployJSON($0, state.sites[site]?.name ?? "") }
                return FakeHTTP.reply(200, .array(list))
            }
        }
        router.put("/deploys/:deploy/files/**") { request, context in
            let id = context.parameters.get("deploy") ?? ""
            let path = context.parameters.getCatchAll().joined(separator: "/").removingPercentEncoding ?? ""
            let bytes = Array(try await request.body.collect(upTo: 64 << 20).readableBytesView)
            return state.withLock { state in
                guard var deploy = state.deploys[id] else { return FakeHTTP.reply(404, ["code": 404, "message": "Not Found"]) }
                let sha = TokenEncoding.hex(Insecure.SHA1.hash(data: bytes))
                guard deploy.digests[path] == sha else { return FakeHTTP.reply(422, ["code": 422, "message": .string("SHA1 mismatch for \(path)")]) }
                deploy.files[path] = bytes
                state.known[sha] = bytes
                state.deploys[id] = deploy
                return FakeHTTP.reply(200, ["id": .string(sha), "path": .string("/" + path), "sha": .string(sha), "size": .int(Int64(bytes.count))])
            }
        }
        router.get("/deploys/:deploy") { _, context in
            let id = context.parameters.get("deploy") ?? ""
            return state.withLock { state in
                guard var deploy = state.deploys[id] else { return FakeHTTP.reply(404, ["code": 404, "message": "Not Found"]) }
                deploy.polls += 1
                let complete = deploy.digests.keys.allSatisfy { deploy.files[$0] != nil }
                switch deploy.state {
                case "uploading" where complete: deploy.state = "processing"
                case "processing": deploy.state = "ready"
                default: break
                }
                state.deploys[id] = deploy
                return FakeHTTP.reply(200, deployJSON(deploy, state.sites[deploy.site]?.name ?? ""))
            }
        }
        router.post("/deploys/:deploy/cancel") { _, context in
            let id = context.parameters.get("deploy") ?? ""
            return state.withLock { state in
                guard var deploy = state.deploys[id] else { return FakeHTTP.reply(404, ["code": 404, "message": "Not Found"]) }
                deploy.state = "error"
                state.deploys[id] = deploy
                return FakeHTTP.reply(201, deployJSON(deploy, state.sites[deploy.site]?.name ?? ""))
            }
        }
        let (port, task) = await LoopbackServer.start(router, label: "fake-netlify")
        return FakeNetlify(token: token, tokens: tokens, port: port, state: state, task: task)
    }

    public func shutdown() async {
        task.cancel()
        _ = try? await task.value
    }

    public var siteCreates: Int { state.withLock { $0.siteCreates } }
    public var deployCreates: Int { state.withLock { $0.deployCreates } }
    public func deploy(titled title: String) -> Deploy? { state.withLock { $0.deploys.values.first { $0.title == title } } }

    /// The deploy the job was created with, as if the daemon died before recording it: the
    /// required files are not uploaded.
    public var deploys: [Deploy] { state.withLock { Array($0.deploys.values) } }
}

private struct AuthMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let tokens: FakeTokens

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard tokens.account(request) != nil else {
            return FakeHTTP.reply(401, ["code": 401, "message": "Access Denied: Invalid token"])
        }
        return try await next(request, context)
    }
}

private func siteJSON(_ id: String, _ name: String) -> JSONValue {
    ["id": .string(id), "name": .string(name), "ssl_url": .string("https://\(name).netlify.app"), "url": .string("http://\(name).netlify.app")]
}

private func deployJSON(_ deploy: FakeNetlify.Deploy, _ name: String) -> JSONValue {
    let required = Set(deploy.digests.filter { deploy.files[$0.key] == nil }.map(\.value))
    return [
        "id": .string(deploy.id), "site_id": .string(deploy.site), "state": .string(deploy.state),
        "title": deploy.title.map { .string($0) } ?? .null, "required": .array(required.sorted().map { .string($0) }),
        "ssl_url": .string("https://\(name).netlify.app"), "deploy_ssl_url": .string("https://\(deploy.id)--\(name).netlify.app"),
    ]
}
