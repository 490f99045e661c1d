public import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import Protocol
public import VectortCore

/// A loopback Render: owners, static site services (one name per workspace) created from a
/// repository with their first deploy, deploys of a commit, lists as `[{cursor, <resource>}]`,
/// `status` advancing created → build_in_progress → live over polls, cancel, and Render's
/// `{id, message}` errors.
public final class FakeRender: Sendable {
    public struct Service: Sendable {
        public var id: String
        public var name: String
        public var repo: String
        public var branch: String
        public var buildCommand: String
        public var publishPath: String
        /// The account whose key created it.
        public var account = "operator"
        /// Its environment variables (`envVars` at creation, then `PUT /env-vars`).
        public var env: [String: String] = [:]
    }

    public struct Deploy: Sendable {
        public var id: String
        public var service: String
        public var commit: String?
        public var status = "created"
    }

    struct State {
        var services: [String: Service] = [:]
        var deploys: [String: Deploy] = [:]
        var order: [String] = []
        var serviceCreates = 0
        var deployCreates = 0
    }

    public let token: String
    /// The keys accepted: the operator's, and users' own accounts a test adds.
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

    public static func start(token: String = "rnd_\(UUID().uuidString.prefix(10))") async throws -> FakeRender {
        let state = Locked(State())
        let router = Router()
        let tokens = FakeTokens(token, account: "operator")
        router.addMiddleware { RenderAuth(tokens: tokens) }
        router.get("/owners") { request, _ in
            let account = tokens.account(request) ?? ""
            return FakeHTTP.reply(
                200,
                [
                    [
                        "cursor": "c1",
                        "owner": ["id": .string(ownerID(account)), "name": .string(account), "email": .string("\(account)@example.com"), "type": "user"],
                    ]
                ])
        }
        router.get("/services") { request, _ in
            let name = request.uri.queryParameters["name"].map(String.init)
            return state.withLock { state in
                let found = state.services.values.filter { name == nil || $0.name == name }
                return FakeHTTP.reply(200, .array(found.map { ["cursor": .string($0.id), "service": serviceJSON($0)] }))
            }
        }
        router.post("/services") { request, _ in
            let body = try await FakeHTTP.json(request)
            let account = tokens.account(request) ?? ""
            return state.withLock { state in
                guard body["type"]?.stringValue == "static_site", let name = body["name"]?.stringValue,
                    let repo = body["repo"]?.stringValue, body["ownerId"]?.stringValue == ownerID(account)
                else { return FakeHTTP.reply(400, ["id": "invalid", "message": "invalid service"]) }
                if state.services.values.contains(where: { $0.name == name }) {
                    return FakeHTTP.reply(409, ["id": "conflict", "message": "service name already in use"])
                }
                let service = Service(
                    id: "srv-" + FakeHTTP.random(12, from: "abcdefghijklmnopqrstuvwxyz0123456789"), name: name, repo: repo, branch: body["branch"]?.stringValue ?? "main",
                    buildCommand: body["serviceDetails"]?["buildCommand"]?.stringValue ?? "",
                    publishPath: body["serviceDetails"]?["publishPath"]?.stringValue ?? "public", account: account,
                    env: envVars(body["envVars"]))
                state.services[service.id] = service
                state.serviceCreates += 1
                let deploy = Deploy(id: "dep-" + FakeHTTP.random(12, from: "abcdefghijklmnopqrstuvwxyz0123456789"), service: service.id, commit: nil)
                state.deploys[deploy.id] = deploy
                state.order.append(deploy.id)
                state.deployCreates += 1
                return FakeHTTP.reply(201, ["service": serviceJSON(service), "deployId": .string(deploy.id)])
            }
        }
        router.put("/services/:id/env-vars") { request, context in
            let id = context.parameters.get("id") ?? ""
            let body = try await FakeHTTP.json(request)
            return state.withLock { state in
                guard state.services[id] != nil else { return FakeHTTP.reply(404, ["id": "not_found", "message": "service not found"]) }
                state.services[id]?.env = envVars(body)
                let list = (state.services[id]?.env ?? [:]).sorted { $0.key < $1.key }
                return FakeHTTP.reply(
                    200, .array(list.map { ["cursor": .string($0.key), "envVar": ["key": .string($0.key), "value": .string($0.value)]] }))
            }
        }
        router.get("/services/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            return state.withLock { state in
                guard let service = state.services[id] else { return FakeHTTP.reply(404, ["id": "not_found", "message": "service not found"]) }
                return FakeHTTP.reply(200, serviceJSON(service))
            }
        }
        router.post("/services/:id/deploys") { request, context in
            let id = context.parameters.get("id") ?? ""
            let body = try await FakeHTTP.json(request)
            return state.withLock { state in
                guard state.services[id] != nil else { return FakeHTTP.reply(404, ["id": "not_found", "message": "service not found"]) }
                let deploy = Deploy(id: "dep-" + FakeHTTP.random(12, from: "abcdefghijklmnopqrstuvwxyz0123456789"), service: id, commit: body["commitId"]?.stringValue)
                state.deploys[deploy.id] = deploy
                state.order.append(deploy.id)
                state.deployCreates += 1
                return FakeHTTP.reply(201, deployJSON(deploy))
            }
        }
        router.get("/services/:id/deploys") { _, context in
            let id = context.parameters.get("id") ?? ""
            return state.withLock { state in
                let list = state.order.reversed().compactMap { state.deploys[$0] }.filter { $0.service == id }
                return FakeHTTP.reply(200, .array(list.map { ["cursor": .string($0.id), "deploy": deployJSON($0)] }))
            }
        }
        router.get("/services/:id/deploys/:did") { _, context in
            let id = context.parameters.get("did") ?? ""
            return state.withLock { state in
                guard var deploy = state.deploys[id] else { return FakeHTTP.reply(404, ["id": "not_found", "message": "deploy not found"]) }
                switch deploy.status {
                case "created": deploy.status = "build_in_progress"
                case "build_in_progress": deploy.status = "live"
                default: break
                }
                state.deploys[id] = deploy
                return FakeHTTP.reply(200, deployJSON(deploy))
            }
        }
        router.post("/services/:id/deploys/:did/cancel") { _, context in
            let id = context.parameters.get("did") ?? ""
            return state.withLock { state in
                guard var deploy = state.deploys[id] else { return FakeHTTP.reply(404, ["id": "not_found", "message": "deploy not found"]) }
                deploy.status = "canceled"
                state.deploys[id] = deploy
                return FakeHTTP.reply(200, deployJSON(deploy))
            }
        }
        let (port, task) = await LoopbackServer.start(router, label: "fake-render")
        return FakeRender(token: token, tokens: tokens, port: port, state: state, task: task)
    }

    public func shutdown() async {
        task.cancel()
        _ = try? await task.value
    }

    public var services: [Service] { state.withLock { Array($0.services.values) } }
    public var serviceCreates: Int { state.withLock { $0.serviceCreates } }
    public var deployCreates: Int { state.withLock { $0.deployCreates } }
}

private struct RenderAuth: RouterMiddleware {
    typealias Context = BasicRequestContext
    let tokens: FakeTokens

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard tokens.account(request) != nil else {
            return FakeHTTP.reply(401, ["id": "unauthorized", "message": "unauthorized"])
        }
        return try await next(request, context)
    }
}

/// The owner id of an account's personal workspace.
private func ownerID(_ account: String) -> String { account == "operator" ? "usr-fake" : "usr-\(account)" }

/// `[{key, value}]` as a map; entries without both are ignored.
private func envVars(_ value: JSONValue?) -> [String: String] {
    var env: [String: String] = [:]
    for entry in value?.arrayValue ?? [] {
        if let key = entry["key"]?.stringValue, let value = entry["value"]?.stringValue { env[key] = value }
    }
    return env
}

private func serviceJSON(_ service: FakeRender.Service) -> JSONValue {
    [
        "id": .string(service.id), "name": .string(service.name), "type": "static_site", "repo": .string(service.repo),
        "branch": .string(service.branch), "autoDeploy": "no",
        "serviceDetails": [
            "url": .string("https://\(service.name).onrender.com"), "buildCommand": .string(service.buildCommand),
            "publishPath": .string(service.publishPath),
        ],
    ]
}

private func deployJSON(_ deploy: FakeRender.Deploy) -> JSONValue {
    [
        "id": .string(deploy.id), "status": .string(deploy.status), "trigger": "api",
        "commit": deploy.commit.map { ["id": .string($0)] } ?? .null,
    ]
}
