import Build
import Crypto
public import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import Protocol
public import ServiceLifecycle
import VectortCore

/// Previews of generated apps (`api.preview_listen`), on an origin of their own so a generated
/// app's scripts can never read the API's session: `/p/{token}/` serves the project's current
/// version's built site and `/p/{token}/v/{n}/…` version n's. The token (128 random bits) is the
/// capability, like a share link; no cookie is ever set. A version whose build failed shows its
/// build errors as a page.
public struct PreviewServer: Service {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        /// The CDN scripts may come from (`build.cdn_base` when `build.external_packages` is `cdn`).
        public var cdnBase: String?
        public var maxConnections: Int
        public var readTimeoutSeconds: Double

        public init(host: String, port: Int, cdnBase: String? = nil, maxConnections: Int = 1024, readTimeoutSeconds: Double = 30) {
            self.host = host
            self.port = port
            self.cdnBase = cdnBase
            self.maxConnections = maxConnections
            self.readTimeoutSeconds = readTimeoutSeconds
        }
    }

    let application: Application<RouterResponder<BasicRequestContext>>

    public init(
        settings: Settings, projects: Projects, versions: Versions, bound: @escaping @Sendable (String) -> Void, logger: Logger
    ) {
        let router = Router()
        let site = PreviewSite(projects: projects, versions: versions, cdnBase: settings.cdnBase)
        router.get("/p/**") { request, _ in try await site.answer(request.uri.path) }
        router.head("/p/**") { request, _ in try await site.answer(request.uri.path) }
        router.get("/healthz") { _, _ in PreviewSite.text(200, "ok") }
        application = HTTPListener.application(
            router: router, host: settings.host, port: settings.port, readTimeoutSeconds: settings.readTimeoutSeconds,
            maxConnections: settings.maxConnections, name: "preview", bound: bound, logger: logger)
    }

    public func run() async throws {
        try await application.run()
    }
}

/// What a preview path answers.
struct PreviewSite: Sendable {
    let projects: Projects
    let versions: Versions
    let cdnBase: String?

    func answer(_ rawPath: String) async throws -> Response {
        // /p/{token}[/v/{n}][/path]
        let path = rawPath.removingPercentEncoding ?? rawPath
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, parts[1] == "p", let owner = try await projects.project(previewToken: parts[2]) else {
            return Self.text(404, "no such preview")
        }
        var rest = Array(parts.dropFirst(3))
        var version: String?
        var prefix = "/p/\(parts[2])"
        if rest.count >= 2, rest[0] == "v", let number = Int(rest[1]), number > 0 {
            version = String(number)
            prefix += "/v/\(number)"
            rest.removeFirst(2)
        }
        // The site's root is a directory: without its slash, relative URLs would resolve wrongly.
        if rest.isEmpty { return Self.redirect(prefix + "/") }
        let file = rest.joined(separator: "/")
        guard !rest.contains(".."), !file.contains("\u{0}") else { return Self.text(404, "no such file") }
        let wanted = file.isEmpty || file.hasSuffix("/") ? file + "index.html" : file
        if let served = try await self.file(owner, version: version, path: wanted) { return served }
        // Client-side routes: a path with no extension is the app's page.
        if !(wanted.split(separator: "/").last ?? "").contains("."), let page = try await self.file(owner, version: version, path: "index.html") {
            return page
        }
        let build: ProjectBuild
        do {
            build = try await versions.build(project: owner.project, owner: owner.user, version: version)
        } catch let error as EngineError where error.wireError.name == .notFound {
            return Self.text(404, version == nil ? "the project has no version yet" : "no version \(version!)")
        }
        guard build.status == .ok else { return Self.buildPage(build) }
        return Self.text(404, "no such file: \(wanted)")
    }

    private func file(_ owner: (project: String, user: String), version: String?, path: String) async throws -> Response? {
        let code: ProjectCode
        do {
            code = try await versions.builtCode(project: owner.project, owner: owner.user, version: version, path: path)
        } catch let error as EngineError
            where error.wireError.name == .notFound || error.wireError.name == .invalidParameter || error.wireError.name == .conflict
        {
            // No such file, or no built site at all (the build page says why).
            return nil
        }
        guard let file = code.files.first(where: { $0.path == path }) else { return nil }
        var headers = Self.headers(csp: csp(for: file))
        headers[.contentType] = SiteServer.contentType(path)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.data)))
    }

    /// The page's policy: its own scripts, its inline scripts by hash (the import map), the CDN.
    func csp(for file: ProjectFile) -> String {
        var scripts = ["'self'"]
        if file.path.hasSuffix(".html") {
            scripts += Self.inlineScripts(file.contents).map { "'sha256-" + Data(SHA256.hash(data: Data($0.utf8))).base64EncodedString() + "'" }
        }
        if let cdnBase, !cdnBase.isEmpty { scripts.append(cdnBase) }
        return "default-src 'self'; script-src \(scripts.joined(separator: " ")); style-src 'self' 'unsafe-inline' https:; img-src 'self' data: https:"
    }

    /// The bodies of `<script>` elements without `src`.
    static func inlineScripts(_ html: String) -> [String] {
        var scripts: [String] = []
        var rest = html[...]
        while let open = rest.range(of: "<script", options: .caseInsensitive) {
            guard let tagEnd = rest[open.upperBound...].firstIndex(of: ">"),
                let close = rest[rest.index(after: tagEnd)...].range(of: "</script>", options: .caseInsensitive)
            else { break }
            let attributes = rest[open.upperBound..<tagEnd].lowercased()
            if !attributes.contains("src=") { scripts.append(String(rest[rest.index(after: tagEnd)..<close.lowerBound])) }
            rest = rest[close.upperBound...]
        }
        return scripts
    }

    /// A version whose build failed (or was not built): its errors, escaped.
    static func buildPage(_ build: ProjectBuild) -> Response {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let title = build.status == .failed ? "This version did not build" : "This version has no build (\(build.status.rawValue))"
        let items = build.errors.map { error in
            "<li><code>\(escape(error.path ?? ""))\(error.line.map { ":\($0)" } ?? "")</code> \(escape(error.message))</li>"
        }.joined(separator: "\n")
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>body{font-family:system-ui,sans-serif;margin:3rem;color:#222}code{background:#f3f3f3;padding:0 .3em}li{margin:.5em 0}</style>
            </head><body><h1>\(escape(title))</h1><p>Version \(escape(build.version)).</p><ul>
            \(items)
            </ul></body></html>
            """
        var headers = Self.headers(csp: "default-src 'none'; style-src 'unsafe-inline'")
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func headers(csp: String) -> HTTPFields {
        var headers: HTTPFields = [:]
        headers[.contentSecurityPolicy] = csp
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.cacheControl] = "no-cache"
        return headers
    }

    static func redirect(_ location: String) -> Response {
        var headers = headers(csp: "default-src 'none'")
        headers[.location] = location
        return Response(status: .movedPermanently, headers: headers)
    }

    static func text(_ status: Int, _ text: String) -> Response {
        var headers = headers(csp: "default-src 'none'")
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
