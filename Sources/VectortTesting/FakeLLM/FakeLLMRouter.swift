import Foundation
import Protocol

/// Turns one request into a response plan: the flavour's endpoint, key and field checks first
/// (rejections do not consume a script), then the next script rendered in the flavour's framing.
enum FakeLLMRouter {
    struct Route {
        var model: String
        var streaming: Bool
        /// Gemini: `alt=sse` (otherwise a streamed JSON array).
        var sse = true
        var includeUsage = false
    }

    static func plan(
        for request: FakeLLMRequest, flavour: FakeLLMFlavour, apiKey: String?, callIndex: Int, now: Date,
        nextScript: () -> FakeLLMScript
    ) -> FakeLLMResponsePlan {
        let routed: Result<Route, Rejection> =
            switch flavour {
            case .openai: openAIRoute(request, apiKey: apiKey)
            case .anthropic: anthropicRoute(request, apiKey: apiKey)
            case .gemini: geminiRoute(request, apiKey: apiKey)
            }
        let common = commonHeaders(flavour, callIndex: callIndex, now: now)
        let route: Route
        switch routed {
        case .failure(let rejection):
            let rendered = render(rejection.error, flavour: flavour, model: rejection.model, callIndex: callIndex, now: now)
            return .whole(
                status: rendered.status, headers: jsonHeaders + merge(common, rendered.headers), body: rendered.body)
        case .success(let r):
            route = r
        }

        let script = nextScript()
        let context = FakeLLMCallContext(
            model: route.model, callIndex: callIndex, created: Int(now.timeIntervalSince1970), now: now,
            includeUsage: route.includeUsage)
        switch script.reply {
        case .reset:
            var plan = FakeLLMResponsePlan()
            plan.append(.reset, after: script.delayBeforeHeaders)
            return plan
        case .raw(let status, let headers, let body):
            return .whole(
                status: status, headers: headers + script.extraHeaders, body: body, after: script.delayBeforeHeaders)
        case .error(let error):
            let rendered = render(error, flavour: flavour, model: route.model, callIndex: callIndex, now: now)
            return .whole(
                status: rendered.status, headers: jsonHeaders + merge(common, rendered.headers + script.extraHeaders),
                body: rendered.body, after: script.delayBeforeHeaders)
        case .answer(let answer):
            guard route.streaming else {
                let body =
                    switch flavour {
                    case .openai: OpenAIFraming(context: context, answer: answer).completion()
                    case .anthropic: AnthropicFraming(context: context, answer: answer).message()
                    case .gemini: GeminiFraming(context: context, answer: answer, sse: false).whole()
                    }
                let delay = script.delayBeforeHeaders + answer.firstTokenDelay
                return .whole(
                    status: 200, headers: jsonHeaders + merge(common, script.extraHeaders), body: body, after: delay)
            }
            let streamHeaders =
                flavour == .gemini && !route.sse ? jsonHeaders : FakeLLMStreamBuilder.eventStreamHeaders
            let headers = streamHeaders + merge(common, script.extraHeaders)
            switch flavour {
            case .openai:
                return FakeLLMStreamBuilder.plan(
                    answer, framing: OpenAIFraming(context: context, answer: answer), headers: headers,
                    delayBeforeHeaders: script.delayBeforeHeaders)
            case .anthropic:
                return FakeLLMStreamBuilder.plan(
                    answer, framing: AnthropicFraming(context: context, answer: answer), headers: headers,
                    delayBeforeHeaders: script.delayBeforeHeaders)
            case .gemini:
                return FakeLLMStreamBuilder.plan(
                    answer, framing: GeminiFraming(context: context, answer: answer, sse: route.sse),
                    headers: headers, delayBeforeHeaders: script.delayBeforeHeaders)
            }
        }
    }

    private static let jsonHeaders = [("content-type", "application/json")]

    /// `base` without the headers that `overrides` sets, then `overrides`.
    private static func merge(
        _ base: [(name: String, value: String)], _ overrides: [(name: String, value: String)]
    ) -> [(name: String, value: String)] {
        let names = Set(overrides.map { $0.name.lowercased() })
        return base.filter { !names.contains($0.name.lowercased()) } + overrides
    }

    private static func commonHeaders(_ flavour: FakeLLMFlavour, callIndex: Int, now: Date) -> [(name: String, value: String)] {
        switch flavour {
        case .openai: OpenAIFraming.commonHeaders(callIndex: callIndex)
        case .anthropic: AnthropicFraming.commonHeaders(callIndex: callIndex, now: now)
        case .gemini: [("server", "scaffolding on HTTPServer2")]
        }
    }

    static func render(_ error: FakeLLMError, flavour: FakeLLMFlavour, model: String, callIndex: Int, now: Date)
        -> FakeLLMRenderedError
    {
        switch flavour {
        case .openai: OpenAIFraming.render(error, model: model)
        case .anthropic: AnthropicFraming.render(error, model: model, requestID: "req_fake\(callIndex)", now: now)
        case .gemini: GeminiFraming.render(error, model: model)
        }
    }

    struct Rejection: Error {
        var error: FakeLLMError
        var model = ""
    }

    private static func isTrue(_ value: JSONValue?) -> Bool {
        value?.boolValue == true || value?.intValue == 1
    }

    private static func openAIRoute(_ request: FakeLLMRequest, apiKey: String?) -> Result<Route, Rejection> {
        guard request.method == "POST", request.path == "/v1/chat/completions" else {
            return .failure(
                Rejection(
                    error: FakeLLMError(
                        status: 404, message: "Invalid URL (\(request.method) \(request.path))")))
        }
        if let apiKey {
            guard let authorization = request.header("authorization"), authorization.hasPrefix("Bearer ") else {
                return .failure(
                    Rejection(
                        error: FakeLLMError(
                            status: 401,
                            message:
                                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys."
                        )))
            }
            if authorization.dropFirst("Bearer ".count) != apiKey {
                return .failure(Rejection(error: FakeLLMError(.unauthorized)))
            }
        }
        guard let json = request.json, json.objectValue != nil else {
            return .failure(
                Rejection(
                    error: FakeLLMError(
                        status: 400,
                        message:
                            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
                    )))
        }
        guard let model = json["model"]?.stringValue else {
            return .failure(Rejection(error: FakeLLMError(status: 400, message: "you must provide a model parameter")))
        }
        guard json["messages"]?.arrayValue != nil else {
            return .failure(
                Rejection(
                    error: FakeLLMError(status: 400, message: "Missing required parameter: 'messages'."), model: model))
        }
        return .success(
            Route(
                model: model, streaming: isTrue(json["stream"]),
                includeUsage: isTrue(json["stream_options"]?["include_usage"])))
    }

    private static func anthropicRoute(_ request: FakeLLMRequest, apiKey: String?) -> Result<Route, Rejection> {
        guard request.method == "POST", request.path == "/v1/messages" else {
            return .failure(
                Rejection(error: FakeLLMError(status: 404, type: "not_found_error", message: "Not Found")))
        }
        if let apiKey {
            guard let presented = request.header("x-api-key") else {
                return .failure(
                    Rejection(
                        error: FakeLLMError(
                            status: 401, type: "authentication_error", message: "x-api-key header is required")))
            }
            if presented != apiKey { return .failure(Rejection(error: FakeLLMError(.unauthorized))) }
        }
        guard request.header("anthropic-version") != nil else {
            return .failure(
                Rejection(error: FakeLLMError(status: 400, message: "anthropic-version: header is required")))
        }
        guard let json = request.json, json.objectValue != nil else {
            return .failure(
                Rejection(error: FakeLLMError(status: 400, message: "There was an issue with your request body.")))
        }
        let model = json["model"]?.stringValue ?? ""
        for field in ["model", "max_tokens", "messages"] where json[field] == nil {
            return .failure(Rejection(error: FakeLLMError(status: 400, message: "\(field): Field required"), model: model))
        }
        return .success(Route(model: model, streaming: isTrue(json["stream"])))
    }

    private static func geminiRoute(_ request: FakeLLMRequest, apiKey: String?) -> Result<Route, Rejection> {
        let prefix = "/v1beta/models/"
        let notFound = Rejection(
            error: FakeLLMError(
                status: 404, message: "Requested entity was not found or the method \(request.path) is not supported."))
        guard request.method == "POST", request.path.hasPrefix(prefix) else { return .failure(notFound) }
        let target = request.path.dropFirst(prefix.count)
        guard let colon = target.lastIndex(of: ":") else { return .failure(notFound) }
        let model = String(target[..<colon])
        let action = target[target.index(after: colon)...]
        guard action == "streamGenerateContent" || action == "generateContent" else {
            return .failure(Rejection(error: notFound.error, model: model))
        }
        if let apiKey {
            guard let presented = request.header("x-goog-api-key") ?? request.query["key"] else {
                return .failure(
                    Rejection(
                        error: FakeLLMError(
                            status: 403,
                            message:
                                "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."
                        ), model: model))
            }
            if presented != apiKey { return .failure(Rejection(error: FakeLLMError(.unauthorized), model: model)) }
        }
        guard let json = request.json, json["contents"]?.arrayValue != nil else {
            return .failure(
                Rejection(
                    error: FakeLLMError(
                        status: 400, message: "* GenerateContentRequest.contents: contents is not specified"),
                    model: model))
        }
        return .success(
            Route(model: model, streaming: action == "streamGenerateContent", sse: request.query["alt"] == "sse"))
    }
}
