import Crypto
public import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import Protocol
public import VectortCore

/// A loopback Vercel for deployments: `POST /v13/deployments` with inline files or SHA-1
/// references (`400 missing_files` until `POST /v2/files` uploads them), `readyState` advancing
/// QUEUED → BUILDING → READY over polls of `GET /v13/deployments/{id}`, the list filtered by
/// `meta-KEY=value`, cancel, Vercel's error envelope, and 429 with `Retry-After` on demand.
public final class FakeVercel: Sendable {
    public struct Deployment: Sendable {
        public var id: String
        public var name: String
        public var files: [String: [UInt8]]
        public var meta: [String: String]
        public var readyState = "QUEUED"
        public var polls = 0
        public var url: String
        /// The account whose token created it.
        public var account = "operator"
    }

    struct State {
        var deployments: [String: Deployment] = [:]
        var blobs: [String: [UInt8]] = [:]
        var creates = 0
        var throttle: (count: Int, retryAfter: Int) = (0, 0)
        var pollsPerStep = 1
        var stall = false
        var fail = false
        var instant = false
        /// Every request: when, method, path, and whether it was answered 429.
        var log: [(at: Date, method: String, path: String, throttled: Bool)] = []
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

    public static func start(token: String = "vercel_\(UUID().uuidString.prefix(10))") async throws -> FakeVercel {
        let state = Locked(State())
        let router = Router()
        let tokens = FakeTokens(token, account: "operator")
        router.addMiddleware { ThrottleMiddleware(tokens: tokens, state: state) }
        router.get("/v2/user") { request, _ in
            let account = tokens.account(request) ?? ""
            return FakeHTTP.reply(
                200, ["user": ["id": .string("usr_\(account)"), "username": .string(account), "email": .string("\(account)@example.com")]])
        }
        router.post("/v13/deployments") { request, _ in
            let body = try await FakeHTTP.json(request)
            let account = tokens.account(request) ?? ""
            return state.withLock { state -> Response in
                var files: [String: [UInt8]] = [:]
                var missing: [String] = []
                for entry in body["files"]?.arrayValue ?? [] {
                    guard let path = entry["file"]?.stringValue else { continue }
                    if let data = entry["data"]?.stringValue {
                        files[path] = entry["encoding"]?.stringValue == "base64" ? Array(Data(base64Encoded: data) ?? Data()) : Array(data.utf8)
                    } else if let sha = entry["sha"]?.stringValue {
                        if let blob = state.blobs[sha] { files[path] = blob } else { missing.append(sha) }
                    }
                }
                guard missing.isEmpty else {
                    return FakeHTTP.reply(400, ["error": ["code": "missing_files", "message": "Missing files", "missing": .array(missing.map { .string($0) })]])
                }
                guard let name = body["name"]?.stringValue, !name.isEmpty else {
                    return FakeHTTP.reply(400, ["error": ["code": "bad_request", "message": "name is required"]])
                }
                state.creates += 1
                let id = "dpl_" + FakeHTTP.random(20)
                var meta: [String: String] = [:]
                for (key, value) in body["meta"]?.objectValue ?? [:] { meta[key] = value.stringValue }
                var deployment = Deployment(id: id, name: name, files: files, meta: meta, url: "\(name)-\(FakeHTTP.random(9).lowercased()).vercel.app")
                deployment.account = account
                state.deployments[id] = deployment
                return FakeHTTP.reply(200, object(deployment))
            }
        }
        router.post("/v2/files") { request, _ in
            let digest = request.headers[HTTPField.Name("x-vercel-digest")!] ?? ""
            let bytes = Array(try await request.body.collect(upTo: 64 << 20).readableBytesView)
            let actual = TokenEncoding.hex(Insecure.SHA1.hash(data: bytes))
            guard actual == digest else {
                return FakeHTTP.reply(400, ["error": ["code": "invalid_sha", "message": .string("SHA1 sum of the file (\(actual)) doesn't match the provided SHA1 sum (\(digest))")]])
            }
            state.withLock { $0.blobs[digest] = bytes }
            return FakeHTTP.reply(200, [:])
        }
        router.get("/v13/deployments/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            return state.withLock { state in
                guard var deployment = state.deployments[id] else {
                    return FakeHTTP.reply(404, ["error": ["code": "not_found", "message": "The deployment could not be found."]])
                }
                deployment.polls += 1
                if state.instant && !state.stall && deployment.readyState == "QUEUED" { deployment.readyState = "BUILDING" }
                if !state.stall, deployment.polls % max(1, state.pollsPerStep) == 0 || state.instant {
                    switch deployment.readyState {
                    case "QUEUED": deployment.readyState = "BUILDING"
                    case "BUILDING": deployment.readyState = state.fail ? "ERROR" : "READY"
                    default: break
                    }
                }
                state.deployments[id] = deployment
                var answer = object(deployment)
                if deployment.readyState == "ERROR" {
                    answer = merge(answer, ["errorCode": "BUILD_FAILED", "errorMessage": "The build failed"])
                }
                return FakeHTTP.reply(200, answer)
            }
        }
        router.get("/v6/deployments") { request, _ in
            let query = request.uri.queryParameters
            return state.withLock { state in
                let filters = query.compactMap { key, value -> (String, String)? in
                    key.hasPrefix("meta-") ? (String(key.dropFirst(5)), String(value)) : nil
                }
                let found = state.deployments.values.filter { deployment in filters.allSatisfy { deployment.meta[$0.0] == $0.1 } }
                return FakeHTTP.reply(200, ["deployments": .array(found.map { ["uid": .string($0.id), "url": .string($0.url), "state": .string($0.readyState)] })])
            }
        }
        router.patch("/v12/deployments/:id/cancel") { _, context in
            let id = context.parameters.get("id") ?? ""
            return state.withLock { state in
                guard var deployment = state.deployments[id] else { return FakeHTTP.reply(404, ["error": ["code": "not_found", "message": "not found"]]) }
                guard !["READY", "ERROR", "CANCELED"].contains(deployment.readyState) else {
                    return FakeHTTP.reply(400, ["error": ["code": "bad_request", "message": "Cannot cancel a deployment in this state"]])
                }
                deployment.readyState = "CANCELED"
                state.deployments[id] = deployment
                return FakeHTTP.reply(200, object(deployment))
            }
        }
        let (port, task) = await LoopbackServer.start(router, label: "fake-vercel")
        return FakeVercel(token: token, tokens: tokens, port: port, state: state, task: task)
    }

    public func shutdown() async {
        task.cancel()
        _ = try? await task.value
    }

    // MARK: Arranging and reading

    /// The next `count` requests get 429 with `Retry-After: seconds`.
    public func throttle(_ count: Int, retryAfter seconds: Int) { state.withLock { $0.throttle = (count, seconds) } }
    /// Polls per state step (QUEUED → BUILDING → READY).
    public func setPollsPerStep(_ polls: Int) { state.withLock { $0.pollsPerStep = polls } }
    /// Deployments never leave QUEUED.
    public func setStall(_ stall: Bool) { state.withLock { $0.stall = stall } }
    /// The first poll finds the deployment READY.
    public func setInstant(_ instant: Bool) { state.withLock { $0.instant = instant } }
    /// Builds end in ERROR.
    public func setFail(_ fail: Bool) { state.withLock { $0.fail = fail } }

    public var creates: Int { state.withLock { $0.creates } }
    public var deployments: [Deployment] { state.withLock { Array($0.deployments.values) } }
    public func deployment(tagged id: String) -> Deployment? {
        state.withLock { $0.deployments.values.first { $0.meta["vectortd_deployment"] == id } }
    }
    public var log: [(at: Date, method: String, path: String, throttled: Bool)] { state.withLock { $0.log } }
}

private struct ThrottleMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let tokens: FakeTokens
    let state: Locked<FakeVercel.State>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard tokens.account(request) != nil else {
            return FakeHTTP.reply(403, ["error": ["code": "forbidden", "message": "Not authorized", "invalidToken": true]])
        }
        let throttled = state.withLock { state -> Int? in
            let throttled = state.throttle.count > 0
            state.log.append((Date(), request.method.rawValue, request.uri.path, throttled))
            guard throttled else { return nil }
            state.throttle.count -= 1
            return state.throttle.retryAfter
        }
        if let seconds = throttled {
            var response = FakeHTTP.reply(429, ["error": ["code": "rate_limited", "message": "Rate limit exceeded"]])
            response.headers[HTTPField.Name("Retry-After")!] = String(seconds)
            response.headers[HTTPField.Name("X-RateLimit-Remaining")!] = "0"
            return response
        }
        return try await next(request, context)
    }
}

private func object(_ deployment: FakeVercel.Deployment) -> JSONValue {
    [
        "id": .string(deployment.id), "name": .string(deployment.name), "url": .string(deployment.url),
        "readyState": .string(deployment.readyState), "status": .string(deployment.readyState),
        "meta": .object(deployment.meta.mapValues { .string($0) }), "target": "production",
    ]
}

private func merge(_ a: JSONValue, _ b: JSONValue) -> JSONValue {
    var object = a.objectValue ?? [:]
    for (key, value) in b.objectValue ?? [:] { object[key] = value }
    return .object(object)
}
