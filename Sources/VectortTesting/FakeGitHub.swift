import Crypto
public import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import Protocol
public import VectortCore

/// A loopback GitHub for exports: the REST calls of the Git Data API with GitHub's answers —
/// `GET /user`, repositories (create for a user or an org, 422 when the name is taken, `auto_init`),
/// refs, commits, blobs, trees (inline `content`, no `base_tree` means exactly the listed files),
/// 409 "Git Repository is empty." on an empty repository, the Contents API that bootstraps one,
/// 422 on a non-fast-forward ref update, 403 without a `User-Agent`, 401 without the token.
/// Object ids are SHA-1s of the contents as git computes them for blobs, and deterministic ones
/// for trees and commits.
public final class FakeGitHub: Sendable {
    public struct Repository: Sendable {
        public var owner: String
        public var name: String
        public var isPrivate: Bool
        /// What GitHub returns as `description` (null when none was given).
        public var description: String?
        public var defaultBranch = "main"
        public var refs: [String: String] = [:]
        var commits: [String: (tree: String, parents: [String], message: String)] = [:]
        var trees: [String: [String: String]] = [:]
        var blobs: [String: [UInt8]] = [:]
        public var fullName: String { "\(owner)/\(name)" }
    }

    struct State {
        var repos: [String: Repository] = [:]
        var requests: [(method: String, path: String)] = []
    }

    public let token: String
    /// The tokens accepted, each with its login: the operator's, and users' own a test adds.
    public let tokens: FakeTokens
    public let login: String
    public let organizations: Set<String>
    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    let state: Locked<State>
    private let task: Task<Void, any Error>

    private init(
        token: String, tokens: FakeTokens, login: String, organizations: Set<String>, port: Int, state: Locked<State>,
        task: Task<Void, any Error>
    ) {
        self.token = token
        self.tokens = tokens
        self.login = login
        self.organizations = organizations
        self.port = port
        self.state = state
        self.task = task
    }

    public static func start(
        token: String = "ghp_\(UUID().uuidString.prefix(12))", login: String = "ada", organizations: Set<String> = ["acme"]
    ) async throws -> FakeGitHub {
        let state = Locked(State())
        let portBox = Locked(0)
        let router = Router()
        let tokens = FakeTokens(token, account: login)
        router.addMiddleware { GuardMiddleware(tokens: tokens, state: state) }
        router.get("/user") { request, _ in json(200, ["login": .string(tokens.account(request) ?? ""), "id": 1, "type": "User"]) }
        router.get("/repos/:owner/:repo") { _, context in
            let name = full(context)
            return state.withLock { state in
                guard let repo = state.repos[name] else { return notFound() }
                return json(200, repoJSON(repo, port: portBox.value))
            }
        }
        let create: @Sendable (Request, BasicRequestContext, String) async throws -> Response = { request, _, owner in
            let body = try await FakeHTTP.json(request)
            guard let name = body["name"]?.stringValue, !name.isEmpty else {
                return json(422, ["message": "Repository creation failed."])
            }
            return state.withLock { state in
                let key = "\(owner)/\(name)"
                if state.repos[key] != nil {
                    return json(
                        422,
                        [
                            "message": "Repository creation failed.",
                            "errors": [["resource": "Repository", "code": "custom", "field": "name", "message": "name already exists on this account"]],
                        ])
                }
                var repo = Repository(owner: owner, name: name, isPrivate: body["private"]?.boolValue ?? false)
                repo.description = body["description"]?.stringValue
                if body["auto_init"]?.boolValue == true {
                    let readme = Array("# \(name)\n".utf8)
                    let blob = Self.blobSHA(readme)
                    repo.blobs[blob] = readme
                    let tree = Self.treeSHA(["README.md": blob])
                    repo.trees[tree] = ["README.md": blob]
                    let commit = Self.commitSHA(tree: tree, parents: [], message: "Initial commit")
                    repo.commits[commit] = (tree, [], "Initial commit")
                    repo.refs[repo.defaultBranch] = commit
                }
                state.repos[key] = repo
                return json(201, repoJSON(repo, port: portBox.value))
            }
        }
        router.post("/user/repos") { request, context in try await create(request, context, tokens.account(request) ?? "") }
        router.post("/orgs/:org/repos") { request, context in
            let org = context.parameters.get("org") ?? ""
            guard organizations.contains(org) else { return notFound() }
            return try await create(request, context, org)
        }
        router.get("/repos/:owner/:repo/git/ref/heads/:branch") { _, context in
            let name = full(context)
            let branch = context.parameters.get("branch") ?? ""
            return state.withLock { state in
                guard let repo = state.repos[name] else { return notFound() }
                if repo.refs.isEmpty { return json(409, ["message": "Git Repository is empty."]) }
                guard let sha = repo.refs[branch] else { return notFound() }
                return json(200, ["ref": .string("refs/heads/\(branch)"), "object": ["sha": .string(sha), "type": "commit"]])
            }
        }
        router.get("/repos/:owner/:repo/git/commits/:sha") { _, context in
            let name = full(context)
            let sha = context.parameters.get("sha") ?? ""
            return state.withLock { state in
                guard let commit = state.repos[name]?.commits[sha] else { return notFound() }
                return json(
                    200,
                    [
                        "sha": .string(sha), "tree": ["sha": .string(commit.tree)], "message": .string(commit.message),
                        "parents": .array(commit.parents.map { ["sha": .string($0)] }),
                    ])
            }
        }
        router.post("/repos/:owner/:repo/git/blobs") { request, context in
            let name = full(context)
            let body = try await FakeHTTP.json(request)
            return state.withLock { state in
                guard var repo = state.repos[name] else { return notFound() }
                if repo.refs.isEmpty { return json(409, ["message": "Git Repository is empty."]) }
                let content = body["content"]?.stringValue ?? ""
                let bytes = body["encoding"]?.stringValue == "base64" ? Array(Data(base64Encoded: content) ?? Data()) : Array(content.utf8)
                let sha = Self.blobSHA(bytes)
                repo.blobs[sha] = bytes
                state.repos[name] = repo
                return json(201, ["sha": .string(sha), "url": .string("\(name)/git/blobs/\(sha)")])
            }
        }
        router.post("/repos/:owner/:repo/git/trees") { request, context in
            let name = full(context)
            let body = try await FakeHTTP.json(request)
            return state.withLock { state in
                guard var repo = state.repos[name] else { return notFound() }
                if repo.refs.isEmpty { return json(409, ["message": "Git Repository is empty."]) }
                var entries: [String: String] = [:]
                if let base = body["base_tree"]?.stringValue { entries = repo.trees[base] ?? [:] }
                for entry in body["tree"]?.arrayValue ?? [] {
                    guard let path = entry["path"]?.stringValue, !path.hasPrefix("/"), !path.split(separator: "/").contains("..")
                    else { return json(422, ["message": "Invalid tree info"]) }
                    if let content = entry["content"]?.stringValue {
                        let bytes = Array(content.utf8)
                        let sha = Self.blobSHA(bytes)
                        repo.blobs[sha] = bytes
                        entries[path] = sha
                    } else if let sha = entry["sha"]?.stringValue {
                        guard repo.blobs[sha] != nil else { return json(422, ["message": .string("tree.sha \(sha) is not a valid blob")]) }
                        entries[path] = sha
                    } else {
                        entries[path] = nil
                    }
                }
                let sha = Self.treeSHA(entries)
                repo.trees[sha] = entries
                state.repos[name] = repo
                return json(201, ["sha": .string(sha), "truncated": false])
            }
        }
        router.post("/repos/:owner/:repo/git/commits") { request, context in
            let name = full(context)
            let body = try await FakeHTTP.json(request)
            return state.withLock { state in
                guard var repo = state.repos[name] else { return notFound() }
                guard let tree = body["tree"]?.stringValue, repo.trees[tree] != nil else {
                    return json(422, ["message": "Tree SHA does not exist"])
                }
                let parents = (body["parents"]?.arrayValue ?? []).compactMap(\.stringValue)
                let message = body["message"]?.stringValue ?? ""
                let sha = Self.commitSHA(tree: tree, parents: parents, message: message)
                repo.commits[sha] = (tree, parents, message)
                state.repos[name] = repo
                return json(201, ["sha": .string(sha), "tree": ["sha": .string(tree)]])
            }
        }
        router.patch("/repos/:owner/:repo/git/refs/heads/:branch") { request, context in
            let name = full(context)
            let branch = context.parameters.get("branch") ?? ""
            let body = try await FakeHTTP.json(request)
            return state.withLock { state in
                guard var repo = state.repos[name], let current = repo.refs[branch] else { return notFound() }
                guard let sha = body["sha"]?.stringValue, let commit = repo.commits[sha] else {
                    return json(422, ["message": "Object does not exist"])
                }
                guard commit.parents.contains(current) || sha == current || body["force"]?.boolValue == true else {
                    return json(422, ["message": "Update is not a fast forward"])
                }
                repo.refs[branch] = sha
                state.repos[name] = repo
                return json(200, ["ref": .string("refs/heads/\(branch)"), "object": ["sha": .string(sha), "type": "commit"]])
            }
        }
        router.post("/repos/:owner/:repo/git/refs") { request, context in
            let name = full(context)
            let body = try await FakeHTTP.json(request)
            return state.withLock { state in
                guard var repo = state.repos[name], let ref = body["ref"]?.stringValue, ref.hasPrefix("refs/heads/"),
                    let sha = body["sha"]?.stringValue, repo.commits[sha] != nil
                else { return json(422, ["message": "Invalid request"]) }
                let branch = String(ref.dropFirst("refs/heads/".count))
                if repo.refs[branch] != nil { return json(422, ["message": "Reference already exists"]) }
                repo.refs[branch] = sha
                state.repos[name] = repo
                return json(201, ["ref": .string(ref), "object": ["sha": .string(sha), "type": "commit"]])
            }
        }
        router.put("/repos/:owner/:repo/contents/:path") { request, context in
            let name = full(context)
            let path = context.parameters.get("path") ?? ""
            let body = try await FakeHTTP.json(request)
            return state.withLock { state in
                guard var repo = state.repos[name] else { return notFound() }
                let bytes = Array(Data(base64Encoded: body["content"]?.stringValue ?? "") ?? Data())
                let branch = body["branch"]?.stringValue ?? repo.defaultBranch
                let blob = Self.blobSHA(bytes)
                repo.blobs[blob] = bytes
                var entries = repo.refs[branch].flatMap { repo.commits[$0] }.flatMap { repo.trees[$0.tree] } ?? [:]
                entries[path] = blob
                let tree = Self.treeSHA(entries)
                repo.trees[tree] = entries
                let parents = repo.refs[branch].map { [$0] } ?? []
                let message = body["message"]?.stringValue ?? ""
                let commit = Self.commitSHA(tree: tree, parents: parents, message: message)
                repo.commits[commit] = (tree, parents, message)
                repo.refs[branch] = commit
                state.repos[name] = repo
                return json(201, ["content": ["path": .string(path), "sha": .string(blob)], "commit": ["sha": .string(commit)]])
            }
        }
        let (port, task) = await LoopbackServer.start(router, label: "fake-github")
        portBox.value = port
        return FakeGitHub(
            token: token, tokens: tokens, login: login, organizations: organizations, port: port, state: state, task: task)
    }

    public func shutdown() async {
        task.cancel()
        _ = try? await task.value
    }

    // MARK: What tests read and arrange

    public func repository(_ fullName: String) -> Repository? { state.withLock { $0.repos[fullName] } }

    /// The files at the head of a branch (default: the default branch).
    public func files(_ fullName: String, branch: String? = nil) -> [String: [UInt8]] {
        state.withLock { state in
            guard let repo = state.repos[fullName], let head = repo.refs[branch ?? repo.defaultBranch],
                let commit = repo.commits[head], let tree = repo.trees[commit.tree]
            else { return [:] }
            return tree.compactMapValues { repo.blobs[$0] }
        }
    }

    /// Commits reachable from a branch head, newest first: their messages.
    public func history(_ fullName: String) -> [String] {
        state.withLock { state in
            guard let repo = state.repos[fullName] else { return [] }
            var messages: [String] = []
            var next = repo.refs[repo.defaultBranch]
            while let sha = next, let commit = repo.commits[sha] {
                messages.append(commit.message)
                next = commit.parents.first
            }
            return messages
        }
    }

    /// An existing repository, empty or with one file.
    public func addRepository(_ fullName: String, file: (String, String)? = nil) {
        let parts = fullName.split(separator: "/").map(String.init)
        state.withLock { state in
            var repo = Repository(owner: parts[0], name: parts[1], isPrivate: false)
            if let (path, text) = file {
                let blob = Self.blobSHA(Array(text.utf8))
                repo.blobs[blob] = Array(text.utf8)
                let tree = Self.treeSHA([path: blob])
                repo.trees[tree] = [path: blob]
                let commit = Self.commitSHA(tree: tree, parents: [], message: "theirs")
                repo.commits[commit] = (tree, [], "theirs")
                repo.refs[repo.defaultBranch] = commit
            }
            state.repos[fullName] = repo
        }
    }

    public var requests: [(method: String, path: String)] { state.withLock { $0.requests } }

    // MARK: Object ids

    static func blobSHA(_ bytes: [UInt8]) -> String {
        hex(Insecure.SHA1.hash(data: Array("blob \(bytes.count)\0".utf8) + bytes))
    }

    static func treeSHA(_ entries: [String: String]) -> String {
        let text = entries.sorted { $0.key < $1.key }.map { "100644 \($0.key)\0\($0.value)" }.joined(separator: "\n")
        return hex(Insecure.SHA1.hash(data: Array("tree \(text.utf8.count)\0\(text)".utf8)))
    }

    static func commitSHA(tree: String, parents: [String], message: String) -> String {
        let text = "tree \(tree)\n" + parents.map { "parent \($0)\n" }.joined() + "\n\(message)\n\(UUID())"
        return hex(Insecure.SHA1.hash(data: Array(text.utf8)))
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String { TokenEncoding.hex(digest) }
}

/// 401 without the token, 403 without a User-Agent (as GitHub answers), and a record of requests.
private struct GuardMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let tokens: FakeTokens
    let state: Locked<FakeGitHub.State>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        state.withLock { $0.requests.append((request.method.rawValue, request.uri.path)) }
        guard let agent = request.headers[.userAgent], !agent.isEmpty else {
            return json(403, ["message": "Request forbidden by administrative rules. Please make sure your request has a User-Agent header"])
        }
        guard tokens.account(request) != nil else {
            return json(401, ["message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"])
        }
        return try await next(request, context)
    }
}

private func full(_ context: BasicRequestContext) -> String {
    "\(context.parameters.get("owner") ?? "")/\(context.parameters.get("repo") ?? "")"
}

private func notFound() -> Response {
    json(404, ["message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"])
}

private func repoJSON(_ repo: FakeGitHub.Repository, port: Int) -> JSONValue {
    [
        "id": 1, "name": .string(repo.name), "full_name": .string(repo.fullName), "owner": ["login": .string(repo.owner)],
        "private": .bool(repo.isPrivate), "html_url": .string("https://github.com/\(repo.fullName)"),
        "clone_url": .string("https://github.com/\(repo.fullName).git"), "default_branch": .string(repo.defaultBranch),
        "description": repo.description.map { .string($0) } ?? .null,
    ]
}

private func json(_ status: Int, _ value: JSONValue) -> Response {
    let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
    var response = Response(
        status: .init(code: status), headers: [.contentType: "application/json; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    response.headers[HTTPField.Name("X-GitHub-Request-Id")!] = "FAKE:\(UUID().uuidString.prefix(8))"
    response.headers[HTTPField.Name("x-ratelimit-remaining")!] = "4999"
    return response
}
