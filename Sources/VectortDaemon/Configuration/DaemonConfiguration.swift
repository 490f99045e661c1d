import Foundation
import Protocol
import Engine

/// The daemon's effective configuration: built-in defaults, then `vectortd.yaml`, then
/// `VECTORTD_*` environment variables. Secrets are not here; see `Secrets`.
///
/// Keys are documented in etc/vectortd.yaml and docs/configuration.md.
struct DaemonConfiguration: Sendable, Equatable {
    struct Control: Sendable, Equatable {
        /// Explicit socket path from `control.socket`; `nil` means the default of `DaemonPaths`.
        var socket: String?
        var adminGroup = "vectortd-admin"
        var clientGroup = "vectortd"
        var maxMessageBytes = Framing.defaultMaxMessageBytes
        var maxConnections = 1024
        /// Calls on one connection that may be in flight before the server stops reading it.
        var maxPipelinedCalls = 128
        /// Bytes of replies one connection may hold for earlier calls before it stops reading.
        var maxUnsentReplyBytes = ControlSettings.defaultMaxUnsentReplyBytes
        /// Bytes of partly received frames the daemon holds at most, over all connections.
        var maxPartialFrameBytes = ControlSettings.defaultMaxPartialFrameBytes
        /// A connection with nothing in flight is closed after this long without input.
        var idleTimeoutSeconds = 300.0
        /// A frame must arrive whole within this long of its first byte.
        var frameTimeoutSeconds = 30.0
    }

    struct DatabaseSettings: Sendable, Equatable {
        var path = "vectortd.sqlite"
        /// A `postgres://` URL selects PostgreSQL instead of the SQLite file; "" keeps SQLite.
        var url = ""
        /// Writes committed together in one transaction at most; 1 turns group commit off.
        var maxBatch = 512
    }

    /// This daemon as one node of several sharing a PostgreSQL database (ignored on SQLite).
    struct NodeSettings: Sendable, Equatable {
        /// This node's id; "" is the host name and the state directory.
        var id = ""
        /// How often the node writes its heartbeat (and publishes its providers' state).
        var heartbeatSeconds = 5.0
        /// A node whose heartbeat is older than this is dead: any node recovers its work.
        var timeoutSeconds = 30.0
        /// How long a deploy job stays leased to the node that polls it without a new poll.
        var leaseSeconds = 120.0
    }

    struct Projects: Sendable, Equatable {
        var maxFiles = 2000
        /// Kept well under control.max_message_bytes: a version travels as JSON (ImportFiles,
        /// GetCode) and as base64 ZIP (ExportZip) in one message.
        var maxVersionBytes = 6 * 1024 * 1024
        /// Bytes of one file's diff in `Projects.Diff` at most.
        var diffMaxBytes = 256 * 1024
    }

    struct BuildSection: Sendable, Equatable {
        var enabled = true
        var esbuildPath = "esbuild"
        var nodePaths = ["/usr/share/nodejs"]
        var timeoutSeconds = 20.0
        var maxOutputBytes = 20 * 1024 * 1024
        var externalPackages = "error"
        var cdnBase = "https://esm.sh"
        var maxConcurrent = 2
        var renderCheck = false
        var renderSeconds = 3.0
    }

    struct Shutdown: Sendable, Equatable {
        var graceSeconds = 20.0
    }

    struct Log: Sendable, Equatable {
        enum Target: String, Sendable, Equatable, CaseIterable {
            case auto, journal, stderr
        }

        var level = "info"
        var target = Target.auto
    }

    struct Credits: Sendable, Equatable {
        var freeOnSignup = 10
        var priceQuick = 2
        var priceAdvanced = 4
        /// Open holds older than this are released by the maintenance sweep.
        var holdMaxAgeSeconds = 900.0
        /// `id:credits:price_minor[:currency]`.
        var packages: [String] = ["micro:10:1000:usd", "starter:80:2000:usd", "standard:250:5000:usd", "pro:600:10000:usd"]
    }

    struct Generation: Sendable, Equatable {
        /// `nil`: providers with keys, then template.
        var chain: [String]?
        var deadlineQuickSeconds = 30.0
        var deadlineAdvancedSeconds = 90.0
        /// Continuations asked of the same provider when an answer is cut off.
        var maxContinuations = 2
        var maxOutputTokens = 16_384
        var maxPromptBytes = 32_768
        /// An edit shows the base version's files up to this many bytes.
        var contextMaxBytes = 200_000
        /// Earlier prompts an edit carries.
        var historyTurns = 6
        /// Generations one user may run at once; 0 = no limit.
        var maxConcurrentPerUser = 2
    }

    struct Webhook: Sendable, Equatable {
        var listen = "127.0.0.1:8402"
        var path = "/api/webhook/stripe"
        var toleranceSeconds = 300.0
        var maxBodyBytes = 1_048_576
        var readTimeoutSeconds = 10.0
        var maxConnections = 256
    }

    /// The web API (`api.*`).
    struct API: Sendable, Equatable {
        var listen = "127.0.0.1:8401"
        var previewListen = "127.0.0.1:8403"
        /// The preview origin's base URL; "" = `http://` + the preview listener's address.
        var previewURL = ""
        /// The front end's base URL: mail links and OAuth's final redirect go there.
        var frontendURL = "http://localhost:3000"
        /// The API's external URL (OAuth callbacks); required when an OAuth client is configured.
        var publicURL = ""
        var corsOrigins: [String] = []
        var sessionHours = 24.0
        var maxBodyBytes = 10_485_760
        var trustedProxies: [String] = []
        var readTimeoutSeconds = 30.0
        var maxConnections = 1024
        var rateBurst = 10
        var ratePerMinute = 10.0
    }

    /// Mail for password resets and email verification (`mail.*`); `from` "" = off.
    struct MailOptions: Sendable, Equatable {
        var from = ""
        var transport = "smtp"
        var smtpURL = "smtp://127.0.0.1:25"
        /// PEM certificates to trust for the relay's STARTTLS instead of the system's roots.
        var smtpCAFile = ""
        var sendgridAPIBase = "https://api.sendgrid.com"
    }

    /// OAuth clients (`oauth.<provider>.*`); a provider is on when its `client_id` is set.
    struct OAuthOptions: Sendable, Equatable {
        struct Provider: Sendable, Equatable {
            var clientID = ""
            var authURL: String
            var tokenURL: String
            var jwksURL = ""
            var issuer = ""
            var apiBase = ""
            var teamID = ""
            var keyID = ""
        }

        var google = Provider(
            authURL: "https://accounts.google.com/o/oauth2/v2/auth", tokenURL: "https://oauth2.googleapis.com/token",
            jwksURL: "https://www.googleapis.com/oauth2/v3/certs", issuer: "https://accounts.google.com")
        var github = Provider(
            authURL: "https://github.com/login/oauth/authorize", tokenURL: "https://github.com/login/oauth/access_token",
            apiBase: "https://api.github.com")
        var apple = Provider(
            authURL: "https://appleid.apple.com/auth/authorize", tokenURL: "https://appleid.apple.com/auth/token",
            jwksURL: "https://appleid.apple.com/auth/keys", issuer: "https://appleid.apple.com")
    }

    /// Prometheus metrics and the event stream (`metrics.*`, `events.*`).
    struct MetricsOptions: Sendable, Equatable {
        /// `host:port` of `/metrics`; `api` = on the API listener; "" = not served.
        var listen = "127.0.0.1:9402"
        /// Off: nothing is counted (and `/metrics` is not served).
        var enabled = true
    }

    /// How long idempotency keys are kept (`idempotency.*`).
    struct IdempotencyOptions: Sendable, Equatable {
        var retentionDays = 30
    }

    struct EventOptions: Sendable, Equatable {
        /// Events a subscriber may have waiting before it is told `lagged`.
        var buffer = 1024
    }

    struct Stripe: Sendable, Equatable {
        var apiBase = "https://api.stripe.com"
        var apiVersion = PaymentSettings.defaultAPIVersion
    }

    struct DeployOptions: Sendable, Equatable {
        var stuckMinutes = 10.0
        var deadlineMinutes: [String: Double] = ["vercel": 50, "netlify": 20, "render": 60]
        var vercelAPIBase = "https://api.vercel.com"
        var vercelTeamID = ""
        var netlifyAPIBase = "https://api.netlify.com/api/v1"
        var netlifyAccountSlug = ""
        var renderAPIBase = "https://api.render.com/v1"
        var renderOwnerID = ""
    }

    struct GitHubOptions: Sendable, Equatable {
        var apiBase = "https://api.github.com"
        var owner = ""
    }

    struct PaymentOptions: Sendable, Equatable {
        var reconcileMinutes = 10.0
        var checkoutExpiryMinutes = 60
        var successURL: String?
        var cancelURL: String?
    }

    var control = Control()
    var database = DatabaseSettings()
    var node = NodeSettings()
    var projects = Projects()
    var shutdown = Shutdown()
    var build = BuildSection()
    var log = Log()
    var credits = Credits()
    var generation = Generation()
    /// Built-in entries and every name in generation.chain, in that order.
    var providers: [ProviderEntry] = ProviderEntry.builtIn
    var webhook = Webhook()
    var api = API()
    var mail = MailOptions()
    var oauth = OAuthOptions()
    var stripe = Stripe()
    var payments = PaymentOptions()
    var github = GitHubOptions()
    var deploy = DeployOptions()
    var metrics = MetricsOptions()
    var events = EventOptions()
    var idempotency = IdempotencyOptions()

    /// Where the configuration came from, for `--check-config` and the journal.
    var sources: [String] = ["defaults"]
}

/// A configuration value that cannot be used. Names the key, says what is wrong.
struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    var key: String
    var problem: String

    var description: String { "configuration key \(key): \(problem)" }
}

/// The names of the log levels swift-log knows, as written in configuration.
let logLevelNames = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
