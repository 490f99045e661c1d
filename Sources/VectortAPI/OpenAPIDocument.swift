import Foundation
import Protocol

/// `GET /api/openapi.json`: an OpenAPI 3.1 document of the routes the router really has. Each
/// route's description comes from `APIDocs.operations`; a route the table does not describe is
/// listed under `x-undocumented` (a test keeps that list empty), and a described route the
/// router lacks under `x-missing`.
enum APIDocs {
    struct Operation: Sendable {
        var method: String
        var path: String
        var summary: String
        var session = true
        var status = 200
        var body: [String] = []
    }

    static let operations: [Operation] = [
        Operation(method: "GET", path: "/healthz", summary: "Whether the daemon and its database answer.", session: false),
        Operation(method: "GET", path: "/api/openapi.json", summary: "This document.", session: false),
        Operation(method: "POST", path: "/api/auth/register", summary: "Creates an account.", session: false, status: 201, body: ["email", "password", "full_name"]),
        Operation(method: "POST", path: "/api/auth/login", summary: "Signs in: a bearer session token.", session: false, body: ["email", "password"]),
        Operation(method: "POST", path: "/api/auth/logout", summary: "Revokes this session.", status: 204),
        Operation(method: "GET", path: "/api/auth/me", summary: "The signed-in user."),
        Operation(method: "POST", path: "/api/auth/password", summary: "Changes the password; every earlier session ends.", status: 204, body: ["current_password", "password"]),
        Operation(method: "POST", path: "/api/auth/password-reset", summary: "Mails a reset link (always 202).", session: false, status: 202, body: ["email"]),
        Operation(method: "POST", path: "/api/auth/password-reset/confirm", summary: "Sets a new password with a reset link's token.", session: false, status: 204, body: ["token", "password"]),
        Operation(method: "POST", path: "/api/auth/verify", summary: "Verifies the email address with a mailed token.", session: false, body: ["token"]),
        Operation(method: "GET", path: "/api/auth/{provider}/login", summary: "Starts sign-in with google, github or apple (302).", session: false, status: 302),
        Operation(method: "GET", path: "/api/auth/{provider}/callback", summary: "The provider's redirect back (302 to the front end).", session: false, status: 302),
        Operation(method: "POST", path: "/api/auth/apple/callback", summary: "Apple's form_post redirect back (302 to the front end).", session: false, status: 302),
        Operation(method: "GET", path: "/api/projects", summary: "The user's projects, with preview_url."),
        Operation(method: "POST", path: "/api/projects", summary: "Creates a project.", status: 201, body: ["title", "description", "type"]),
        Operation(method: "GET", path: "/api/projects/{id}", summary: "One project, with preview_url."),
        Operation(method: "PUT", path: "/api/projects/{id}", summary: "Changes title, description or config (partial).", body: ["title", "description", "config"]),
        Operation(method: "DELETE", path: "/api/projects/{id}", summary: "Deletes the project and its versions.", status: 204),
        Operation(method: "GET", path: "/api/projects/{id}/code", summary: "A version's files (?version&path&built)."),
        Operation(method: "GET", path: "/api/projects/{id}/versions", summary: "The project's versions."),
        Operation(method: "GET", path: "/api/projects/{id}/build", summary: "A version's build (?version)."),
        Operation(method: "GET", path: "/api/projects/{id}/diff", summary: "A unified diff between two versions (?from&to)."),
        Operation(method: "POST", path: "/api/projects/{id}/restore", summary: "Makes an earlier version current as a new version.", status: 201, body: ["version"]),
        Operation(method: "POST", path: "/api/projects/{id}/generate", summary: "Generates or edits the app (JSON, or server-sent events with Accept: text/event-stream).",
                  body: ["prompt", "mode", "base_version", "fresh", "provider", "idempotency_key"]),
        Operation(method: "GET", path: "/api/projects/{id}/generations", summary: "The project's generations (?limit)."),
        Operation(method: "POST", path: "/api/generations/{generation}/cancel", summary: "Cancels a running generation."),
        Operation(method: "POST", path: "/api/projects/{id}/preview/rotate", summary: "A new preview URL; the old one stops working."),
        Operation(method: "POST", path: "/api/projects/{id}/deploy", summary: "Starts a deployment.", status: 202, body: ["platform", "version", "settings", "idempotency_key"]),
        Operation(method: "GET", path: "/api/projects/{id}/deployment/status", summary: "The project's latest deployment."),
        Operation(method: "GET", path: "/api/deployment/platforms", summary: "Deploy platforms and whether they are configured."),
        Operation(method: "POST", path: "/api/projects/{id}/export/github", summary: "Pushes a version to GitHub as one commit.", body: ["version", "repo", "private", "message", "force", "idempotency_key"]),
        Operation(method: "POST", path: "/api/projects/{id}/export/zip", summary: "A version as a ZIP archive.", body: ["version", "built"]),
        Operation(method: "GET", path: "/api/credits/balance", summary: "Spendable and held credits."),
        Operation(method: "GET", path: "/api/credits/packages", summary: "Credit packages for sale."),
        Operation(method: "GET", path: "/api/credits/history", summary: "Ledger entries, newest first (?limit&after)."),
        Operation(method: "POST", path: "/api/credits/purchase", summary: "A Stripe Checkout session for a package.", status: 201, body: ["package", "success_url", "cancel_url", "idempotency_key"]),
        Operation(method: "GET", path: "/api/payments", summary: "The user's payments (?status&limit&after)."),
        Operation(method: "GET", path: "/api/payments/{payment}", summary: "One payment with its events."),
        Operation(method: "GET", path: "/api/accounts", summary: "The user's connected platform accounts."),
        Operation(method: "POST", path: "/api/accounts/{platform}", summary: "Connects a platform account (token checked, stored encrypted).", body: ["token"]),
        Operation(method: "DELETE", path: "/api/accounts/{platform}", summary: "Disconnects a platform account."),
    ]

    /// `/api/projects/:id` → `/api/projects/{id}`.
    static func openAPIPath(_ routerPath: String) -> String {
        routerPath.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
        }.joined(separator: "/")
    }

    static func document(routes: [(method: String, path: String)]) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        var undocumented: [JSONValue] = []
        let served = Set(routes.map { "\($0.method) \(openAPIPath($0.path))" })
        for route in routes where route.method != "HEAD" {
            let path = openAPIPath(route.path)
            guard let operation = operations.first(where: { $0.method == route.method && $0.path == path }) else {
                undocumented.append(.string("\(route.method) \(path)"))
                continue
            }
            var entry: [String: JSONValue] = [
                "summary": .string(operation.summary),
                "responses": .object([
                    String(operation.status): ["description": "success"],
                    "default": ["description": "an error", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]],
                ]),
            ]
            let parameters = path.split(separator: "/").filter { $0.hasPrefix("{") }.map { part -> JSONValue in
                ["name": .string(String(part.dropFirst().dropLast())), "in": "path", "required": true, "schema": ["type": "string"]]
            }
            if !parameters.isEmpty { entry["parameters"] = .array(parameters) }
            if !operation.body.isEmpty {
                let properties = Dictionary(uniqueKeysWithValues: operation.body.map { ($0, JSONValue.object([:])) })
                entry["requestBody"] = [
                    "content": ["application/json": ["schema": ["type": "object", "properties": .object(properties)]]],
                ]
            }
            entry["security"] = operation.session ? [["bearer": []]] : []
            var item = paths[path]?.objectValue ?? [:]
            item[route.method.lowercased()] = .object(entry)
            paths[path] = .object(item)
        }
        let missing = operations.filter { !served.contains("\($0.method) \($0.path)") }.map { JSONValue.string("\($0.method) \($0.path)") }
        var document: [String: JSONValue] = [
            "openapi": "3.1.0",
            "info": ["title": "vectortd web API", "version": "1"],
            "paths": .object(paths),
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]],
                "schemas": [
                    "Error": [
                        "type": "object", "required": ["error"],
                        "properties": [
                            "error": [
                                "type": "object", "required": ["code", "message"],
                                "properties": ["code": ["type": "string"], "message": ["type": "string"], "parameters": ["type": "object"]],
                            ]
                        ],
                    ]
                ],
            ],
        ]
        if !undocumented.isEmpty { document["x-undocumented"] = .array(undocumented) }
        if !missing.isEmpty { document["x-missing"] = .array(missing) }
        return .object(document)
    }
}
