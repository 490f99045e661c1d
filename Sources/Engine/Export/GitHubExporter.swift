public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
public import Protocol
import VectortCore
import Generation

/// GitHub settings from configuration and the operator's `github-token` credential.
public struct GitHubSettings: Sendable, Equatable {
    public var apiBase: String
    /// Default owner (a user or an organization) of new repositories; empty: the token's user.
    public var owner: String
    public var token: String?

    public init(apiBase: String = "https://api.github.com", owner: String = "", token: String? = nil) {
        self.apiBase = apiBase
        self.owner = owner
        self.token = token
    }
}

/// `Projects.ExportGitHub`: the version's whole tree as one commit through the Git Data API.
///
/// The repository is created when missing (`/user/repos`, or `/orgs/{org}/repos`, with
/// `auto_init` so it has a branch). The commit's tree is exactly the version (no `base_tree`,
/// so files a later version deleted do not linger), its parent the branch head; an empty
/// repository is bootstrapped through the Contents API first. Re-exporting a version the
/// branch already holds makes no commit. Text files travel inline in the tree request; binary
/// ones as base64 blobs first.
public struct GitHubExporter: Sendable {
    let projects: Projects
    let versions: Versions
    let http: HTTPClient
    let settings: @Sendable () -> GitHubSettings
    /// Users' own GitHub accounts, used before the operator's token.
    let accounts: ConnectedAccounts?
    /// Exports of one project run one at a time (concurrent deploys to Render export too): two
    /// would race to create the repository and to move its branch.
    private let serial = KeyedLock()

    public init(
        projects: Projects, versions: Versions, http: HTTPClient, settings: @escaping @Sendable () -> GitHubSettings,
        accounts: ConnectedAccounts? = nil
    ) {
        self.projects = projects
        self.versions = versions
        self.http = http
        self.settings = settings
        self.accounts = accounts
    }

    /// The operator's token is configured.
    public var configured: Bool { settings().token?.isEmpty == false }

    /// Whether an export for `user` has a token: the user's connected account or the operator's.
    func configured(for user: String) async throws -> Bool {
        if configured { return true }
        return try await accounts?.token(user: user, platform: "github") != nil
    }

    public func export(
        project id: String, owner: String?, version: String?, repo requested: String?, private isPrivate: Bool?,
        message: String?, force: Bool, idempotencyKey: String? = nil
    ) async throws -> GitHubExportResult {
        try await serial.withLock(id) {
            try await exportNow(
                project: id, owner: owner, version: version, repo: requested, private: isPrivate, message: message, force: force,
                idempotencyKey: idempotencyKey)
        }
    }

    private func exportNow(
        project id: String, owner: String?, version: String?, repo requested: String?, private isPrivate: Bool?,
        message: String?, force: Bool, idempotencyKey: String?
    ) async throws -> GitHubExportResult {
        try EngineError.refuseNUL([
            "project": id, "version": version, "repo": requested, "message": message, "idempotency_key": idempotencyKey,
        ])
        let project = try await projects.get(id, owner: owner)
        // What a key is bound to: the same request from the same user.
        let request =
            [project.user, id, version ?? "", requested ?? "", isPrivate.map(String.init) ?? "", message ?? "", String(force)]
            .joined(separator: "\u{0}")
        if let idempotencyKey, let replay = try await projects.exportReplay(key: idempotencyKey, request: request) {
            return replay
        }
        if let requested { try Self.validate(repo: requested) }
        guard project.currentVersion != nil || version != nil else {
            throw EngineError.conflict("project \(id) has no version to export")
        }
        let code = try await versions.code(project: id, owner: owner, version: version)
        let settings = settings()
        // The user's own account first: the repository is theirs, under their login.
        let userToken = try await accounts?.token(user: project.user, platform: "github")
        guard let token = userToken ?? settings.token, !token.isEmpty else {
            throw EngineError(
                WireError(
                    .unavailable, "GitHub export is not configured (no github-token, and the user has no connected GitHub account)",
                    ["reason": .string("platform_not_configured"), "platform": "github"]))
        }
        let api = GitHubAPI(http: http, base: settings.apiBase, token: token, connected: userToken != nil)

        // Which repository: the one asked for, else the one of the last export, else one named
        // after the project under the default owner.
        let login = try await api.get("/user")["login"]?.stringValue ?? ""
        let target = requested ?? project.github?.repo ?? Self.slug(project.title, id: id)
        let parts = target.split(separator: "/", maxSplits: 1).map(String.init)
        let repoOwner = parts.count == 2 ? parts[0] : (settings.owner.isEmpty || userToken != nil ? login : settings.owner)
        let repoName = parts.count == 2 ? parts[1] : parts[0]
        let fullName = "\(repoOwner)/\(repoName)"

        var created = false
        var repository = try await api.getIfPresent("/repos/\(fullName)")
        if repository == nil {
            let body: JSONValue = [
                "name": .string(repoName), "private": .bool(isPrivate ?? true), "auto_init": true,
                "description": .string(Self.description(project.title, id: id)),
            ]
            repository = try await api.send(
                .POST, repoOwner.lowercased() == login.lowercased() ? "/user/repos" : "/orgs/\(repoOwner)/repos", body)
            created = true
        }
        guard let repository else { throw EngineError.notFound("repository", fullName) }
        let branch = repository["default_branch"]?.stringValue ?? "main"
        let htmlURL = repository["html_url"]?.stringValue ?? "https://github.com/\(fullName)"

        // The branch head: wait a moment for an auto-initialized repository; bootstrap an empty one.
        var head = try await api.head(fullName, branch: branch, waitForInitialCommit: created)
        if head == nil {
            // Empty: nothing of anyone's can be lost, so no force is needed.
            let bootstrap: JSONValue = [
                "message": "Start the repository", "content": .string(Data("vectortd export\n".utf8).base64EncodedString()),
                "branch": .string(branch),
            ]
            let answer = try await api.send(.PUT, "/repos/\(fullName)/contents/.vectortd-export", bootstrap)
            head = answer["commit"]?["sha"]?.stringValue
        } else if !created && !force && project.github?.repo.lowercased() != fullName.lowercased()
            // A repository this project created, whose export was cut off before it was recorded
            // (a crash between GitHub's answer and the database): its own, not someone else's.
            && repository["description"]?.stringValue?.hasSuffix(Self.marker(id)) != true
        {
            throw EngineError.conflict(
                "\(fullName) already has commits and this project never exported to it; pass force to add the version on top")
        }
        guard let parent = head else { throw EngineError(.unavailable("GitHub did not give \(fullName) a branch \(branch)")) }
        let parentTree = try await api.get("/repos/\(fullName)/git/commits/\(parent)")["tree"]?["sha"]?.stringValue

        var entries: [JSONValue] = []
        for file in code.files {
            if file.isBinary {
                let blob = try await api.send(
                    .POST, "/repos/\(fullName)/git/blobs",
                    ["content": .string(file.data.base64EncodedString()), "encoding": "base64"])
                entries.append(["path": .string(file.path), "mode": "100644", "type": "blob", "sha": blob["sha"] ?? .null])
            } else {
                entries.append(["path": .string(file.path), "mode": "100644", "type": "blob", "content": .string(file.contents)])
            }
        }
        let tree = try await api.send(.POST, "/repos/\(fullName)/git/trees", ["tree": .array(entries)])
        guard let treeSHA = tree["sha"]?.stringValue else { throw EngineError(.unavailable("GitHub answered a tree without a sha")) }

        var commitSHA = parent
        var committed = false
        if treeSHA != parentTree {
            let text = message ?? "\(project.title): version \(code.version)"
            let commit = try await api.send(
                .POST, "/repos/\(fullName)/git/commits",
                ["message": .string(text), "tree": .string(treeSHA), "parents": [.string(parent)]])
            guard let sha = commit["sha"]?.stringValue else { throw EngineError(.unavailable("GitHub answered a commit without a sha")) }
            _ = try await api.send(.PATCH, "/repos/\(fullName)/git/refs/heads/\(branch)", ["sha": .string(sha), "force": false])
            commitSHA = sha
            committed = true
        }
        let result = GitHubExportResult(
            project: id, version: code.version, repo: fullName, htmlURL: htmlURL, commitSHA: commitSHA, branch: branch,
            createdRepository: created, committed: committed, files: code.files.count)
        return try await projects.recordGitHub(
            id, owner: owner, GitHubExport(repo: fullName, htmlURL: htmlURL, commitSHA: commitSHA, branch: branch),
            key: idempotencyKey, request: request, result: result)
    }

    /// The description of a repository an export creates: the title, and the project's id,
    /// which tells a later export of the same project that the repository is its own.
    static func description(_ title: String, id: String) -> String {
        String("\(title) — made with vectortd".prefix(300 - marker(id).count - 1)) + " " + marker(id)
    }

    static func marker(_ id: String) -> String { "(\(id))" }

    /// `name` or `owner/name`, with GitHub's characters.
    static func validate(repo: String) throws {
        let parts = repo.split(separator: "/", omittingEmptySubsequences: false)
        let valid =
            (1...2).contains(parts.count)
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 100 && part != "." && part != ".."
                    && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
            }
        guard valid else { throw EngineError.invalid("repo", "repo must be name or owner/name (letters, digits, - _ .)") }
    }

    /// A repository name from the project's title: `Soap Shop` → `soap-shop`.
    static func slug(_ title: String, id: String) -> String {
        var slug = ""
        for character in title.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) {
                slug.append(character)
            } else if !slug.isEmpty && slug.last != "-" {
                slug.append("-")
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug.isEmpty ? id : String(slug.prefix(90))
    }
}

/// GitHub's REST calls with its headers and its errors as named errors.
struct GitHubAPI: Sendable {
    let http: HTTPClient
    let base: String
    let token: String
    /// The token is a user's connected account, not the operator's `github-token`.
    var connected = false

    func get(_ path: String) async throws -> JSONValue {
        try await send(.GET, path, nil)
    }

    func getIfPresent(_ path: String) async throws -> JSONValue? {
        let (status, value, _) = try await call(.GET, path, nil)
        if status == 404 { return nil }
        guard (200..<300).contains(status) else { throw error(status, value, nil) }
        return value
    }

    /// The commit at the head of a branch; nil for an empty repository. Right after creating a
    /// repository with `auto_init`, its first commit may take a moment: it is waited for.
    func head(_ fullName: String, branch: String, waitForInitialCommit: Bool) async throws -> String? {
        for attempt in 0..<(waitForInitialCommit ? 20 : 1) {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(500)) }
            let (status, value, headers) = try await call(.GET, "/repos/\(fullName)/git/ref/heads/\(branch)", nil)
            if (200..<300).contains(status) { return value["object"]?["sha"]?.stringValue }
            guard status == 404 || status == 409 else { throw error(status, value, headers) }
        }
        return nil
    }

    func send(_ method: HTTPMethod, _ path: String, _ body: JSONValue?) async throws -> JSONValue {
        let (status, value, headers) = try await call(method, path, body)
        guard (200..<300).contains(status) else { throw error(status, value, headers) }
        return value
    }

    private func call(_ method: HTTPMethod, _ path: String, _ body: JSONValue?) async throws
        -> (Int, JSONValue, HTTPHeaders)
    {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/vnd.github+json")
        request.headers.add(name: "X-GitHub-Api-Version", value: "2022-11-28")
        request.headers.add(name: "User-Agent", value: "vectortd")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(60))
            bytes = try await response.body.collect(upTo: 16 << 20)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw EngineError(
                WireError(.unavailable, "cannot reach GitHub: \(error)", ["reason": "github_unavailable", "retry_after_seconds": 30]))
        }
        let value = (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes.readableBytesView))) ?? .null
        return (Int(response.status.code), value, response.headers)
    }

    private func error(_ status: Int, _ value: JSONValue, _ headers: HTTPHeaders?) -> EngineError {
        let message = value["message"]?.stringValue ?? "HTTP \(status)"
        let detail = (value["errors"]?.arrayValue?.first?["message"]?.stringValue).map { ": \($0)" } ?? ""
        switch status {
        case 401:
            return EngineError(
                WireError(
                    .unavailable,
                    connected
                        ? "GitHub refused the connected account's token (\(message)); connect the account again"
                        : "GitHub refused the github-token (\(message)); set a valid one",
                    ["reason": "github_authentication"]))
        case 403 where headers?.first(name: "x-ratelimit-remaining") == "0" || headers?.first(name: "retry-after") != nil,
            429:
            let wait = headers?.first(name: "retry-after").flatMap(Double.init)
                ?? headers?.first(name: "x-ratelimit-reset").flatMap(Double.init).map { max(1, $0 - Date().timeIntervalSince1970) }
                ?? 60
            return EngineError(
                WireError(
                    .unavailable, "GitHub's rate limit: \(message)",
                    ["reason": "github_rate_limited", "retry_after_seconds": WireError.retryAfter(wait)]))
        case 404:
            return EngineError(WireError(.notFound, "GitHub: \(message)", ["kind": "repository"]))
        case 409, 422:
            return EngineError.conflict("GitHub: \(message)\(detail)")
        case 500...:
            return EngineError(
                WireError(.unavailable, "GitHub answered \(status): \(message)", ["reason": "github_unavailable", "retry_after_seconds": 30]))
        default:
            return EngineError.conflict("GitHub refused (\(status)): \(message)\(detail)")
        }
    }
}
