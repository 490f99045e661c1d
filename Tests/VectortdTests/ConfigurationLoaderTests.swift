import Foundation
import Testing
import VectortTesting

@testable import VectortDaemon

@Suite("ConfigurationLoader: defaults, then vectortd.yaml, then VECTORTD_* variables")
struct ConfigurationLoaderTests {
    static let fullFile = """
        # every key set to something other than its default
        control:
          socket: /run/custom/vectortd.sock
          admin_group: wheel
          client_group: staff
          max_message_bytes: 65536
          max_connections: 10
          max_pipelined_calls: 4
          max_unsent_reply_bytes: 131072
          max_partial_frame_bytes: 1048576
          idle_timeout_seconds: 60
          frame_timeout_seconds: 2.5
        database:
          path: /var/lib/custom/db.sqlite
        shutdown:
          grace_seconds: 2.5
        log:
          level: debug
          target: stderr
        credits:
          free_on_signup: 3
          prices:
            quick: 1
            advanced: 7
        generation:
          chain: [openai, template]
          deadline_seconds:
            quick: 15
            advanced: 120
        webhook:
          listen: "[::1]:9000"
          path: /hooks/stripe
        stripe:
          api_base: http://127.0.0.1:12111
        """

    static func load(yaml: String? = nil, environment: [String: String] = [:]) async throws -> DaemonConfiguration {
        let directory = try TemporaryDirectory()
        let file = try yaml.map { try directory.write("vectortd.yaml", $0) }
        return try await ConfigurationLoader(file: file, fileMayBeMissing: false, environment: environment).load()
    }

    static func loadError(yaml: String? = nil, environment: [String: String] = [:]) async -> ConfigurationError? {
        await #expect(throws: ConfigurationError.self) { _ = try await load(yaml: yaml, environment: environment) }
    }

    @Test func nothingConfiguredGivesTheBuiltInDefaults() async throws {
        let configuration = try await Self.load()
        #expect(configuration == DaemonConfiguration())
        #expect(configuration.sources == ["defaults"])
    }

    @Test func everyKeyIsReadFromTheFile() async throws {
        let configuration = try await Self.load(yaml: Self.fullFile)
        #expect(configuration.control.socket == "/run/custom/vectortd.sock")
        #expect(configuration.control.adminGroup == "wheel")
        #expect(configuration.control.clientGroup == "staff")
        #expect(configuration.control.maxMessageBytes == 65536)
        #expect(configuration.control.maxConnections == 10)
        #expect(configuration.control.maxPipelinedCalls == 4)
        #expect(configuration.control.maxUnsentReplyBytes == 131072)
        #expect(configuration.control.maxPartialFrameBytes == 1048576)
        #expect(configuration.control.idleTimeoutSeconds == 60)
        #expect(configuration.control.frameTimeoutSeconds == 2.5)
        #expect(configuration.database.path == "/var/lib/custom/db.sqlite")
        #expect(configuration.shutdown.graceSeconds == 2.5)
        #expect(configuration.log.level == "debug")
        #expect(configuration.log.target == .stderr)
        #expect(configuration.credits.freeOnSignup == 3)
        #expect(configuration.credits.priceQuick == 1)
        #expect(configuration.credits.priceAdvanced == 7)
        #expect(configuration.generation.chain == ["openai", "template"])
        #expect(configuration.generation.deadlineQuickSeconds == 15)
        #expect(configuration.generation.deadlineAdvancedSeconds == 120)
        #expect(configuration.webhook.listen == "[::1]:9000")
        #expect(configuration.webhook.path == "/hooks/stripe")
        #expect(configuration.stripe.apiBase == "http://127.0.0.1:12111")
        #expect(configuration.sources.count == 2)
        #expect(configuration.sources.last?.hasSuffix("/vectortd.yaml") == true)
    }

    @Test func timeoutsOutsideTheirRangeAreRefusedNamingTheKey() async throws {
        let idle = await Self.loadError(yaml: "control:\n  idle_timeout_seconds: 0\n")
        #expect(idle?.key == "control.idle_timeout_seconds")
        let frame = await Self.loadError(yaml: "control:\n  frame_timeout_seconds: 7200\n")
        #expect(frame?.key == "control.frame_timeout_seconds")
        let budget = await Self.loadError(yaml: "control:\n  max_partial_frame_bytes: 10\n")
        #expect(budget?.key == "control.max_partial_frame_bytes")
    }

    @Test func environmentOverridesTheFile() async throws {
        let configuration = try await Self.load(
            yaml: Self.fullFile,
            environment: ["VECTORTD_CONTROL_MAX_CONNECTIONS": "20", "VECTORTD_LOG_LEVEL": "warning"])
        #expect(configuration.control.maxConnections == 20)
        #expect(configuration.log.level == "warning")
        #expect(configuration.control.adminGroup == "wheel")
        #expect(configuration.sources.last == "environment")
    }

    @Test func environmentAloneOverridesTheDefaults() async throws {
        let configuration = try await Self.load(environment: ["VECTORTD_CREDITS_PRICES_ADVANCED": "9"])
        #expect(configuration.credits.priceAdvanced == 9)
        #expect(configuration.sources == ["defaults", "environment"])
    }

    @Test func socketVariableAloneIsNotAConfigurationSource() async throws {
        let configuration = try await Self.load(environment: ["VECTORTD_SOCKET": "/tmp/x.sock", "HOME": "/root"])
        #expect(configuration.sources == ["defaults"])
    }

    @Test func fileOfOnlyCommentsMeansNoKeys() async throws {
        let configuration = try await Self.load(yaml: "# control:\n#   max_connections: 5\n---\n")
        #expect(configuration.control == DaemonConfiguration().control)
        #expect(configuration.sources.count == 2)
    }

    @Test func emptyWebhookListenDisablesTheListener() async throws {
        let configuration = try await Self.load(yaml: "webhook:\n  listen: \"\"\n")
        #expect(configuration.webhook.listen == "")
    }

    @Test(arguments: [
        ("VECTORTD_CONTROL_MAX_CONNECTIONS", "many", "control.max_connections"),
        ("VECTORTD_CONTROL_MAX_CONNECTIONS", "0", "control.max_connections"),
        ("VECTORTD_CONTROL_MAX_PIPELINED_CALLS", "1.5", "control.max_pipelined_calls"),
        ("VECTORTD_CONTROL_MAX_MESSAGE_BYTES", "100", "control.max_message_bytes"),
        ("VECTORTD_SHUTDOWN_GRACE_SECONDS", "soon", "shutdown.grace_seconds"),
        ("VECTORTD_SHUTDOWN_GRACE_SECONDS", "-1", "shutdown.grace_seconds"),
        ("VECTORTD_GENERATION_DEADLINE_SECONDS_QUICK", "inf", "generation.deadline_seconds.quick"),
        ("VECTORTD_CREDITS_FREE_ON_SIGNUP", "-3", "credits.free_on_signup"),
        ("VECTORTD_LOG_LEVEL", "verbose", "log.level"),
        ("VECTORTD_LOG_TARGET", "syslog", "log.target"),
        ("VECTORTD_WEBHOOK_LISTEN", "localhost", "webhook.listen"),
        ("VECTORTD_WEBHOOK_LISTEN", "127.0.0.1:70000", "webhook.listen"),
        ("VECTORTD_WEBHOOK_LISTEN", ":8402", "webhook.listen"),
        ("VECTORTD_WEBHOOK_PATH", "api/webhook", "webhook.path"),
        ("VECTORTD_STRIPE_API_BASE", "ftp://api.stripe.com", "stripe.api_base"),
        ("VECTORTD_STRIPE_API_BASE", "api.stripe.com", "stripe.api_base"),
        ("VECTORTD_DATABASE_PATH", "", "database.path"),
    ])
    func badEnvironmentValueIsAnErrorNamingItsKey(variable: String, value: String, key: String) async {
        let error = await Self.loadError(environment: [variable: value])
        #expect(error?.key == key)
        #expect(error?.description.hasPrefix("configuration key \(key): ") == true)
    }

    @Test(arguments: [
        ("control:\n  max_connections: lots\n", "control.max_connections"),
        ("control:\n  max_connections: 2000000\n", "control.max_connections"),
        ("log:\n  level: loud\n", "log.level"),
        ("webhook:\n  listen: 8402\n", "webhook.listen"),
        ("stripe:\n  api_base: \"file:///etc/passwd\"\n", "stripe.api_base"),
    ])
    func badFileValueIsAnErrorNamingItsKey(yaml: String, key: String) async {
        let error = await Self.loadError(yaml: yaml)
        #expect(error?.key == key)
    }

    @Test func explicitConfigFileThatDoesNotExistIsAnError() async throws {
        let directory = try TemporaryDirectory()
        let loader = ConfigurationLoader.locate(explicit: directory.path + "/missing.yaml", environment: [:])
        #expect(loader.fileMayBeMissing == false)
        let error = await #expect(throws: ConfigurationError.self) { _ = try await loader.load() }
        #expect(error?.key == "--config")
    }

    @Test func configurationDirectoryIsSearchedInOrder() throws {
        let first = try TemporaryDirectory()
        let second = try TemporaryDirectory()
        let file = try second.write("vectortd.yaml", "log:\n  level: debug\n")
        let loader = ConfigurationLoader.locate(
            explicit: nil, environment: ["CONFIGURATION_DIRECTORY": "\(first.path):\(second.path)"])
        #expect(loader.file == file)
        #expect(loader.fileMayBeMissing)
    }

    @Test func changedKeysNameEveryDifferenceInDocumentationOrder() {
        let old = DaemonConfiguration()
        var new = old
        new.log.level = "debug"
        new.control.maxConnections = 5
        new.generation.chain = ["template"]
        #expect(old.changedKeys(comparedTo: new) == ["control.max_connections", "log.level", "generation.chain"])
        #expect(old.changedKeys(comparedTo: old) == [])
    }

    @Test func hostPortAcceptsBracketedIPv6() throws {
        #expect(try HostPort.parse("[::1]:8402", key: "k") == HostPort(host: "::1", port: 8402))
        #expect(try HostPort.parse("0.0.0.0:0", key: "k") == HostPort(host: "0.0.0.0", port: 0))
    }
}
