/// The type of a parameter, as `Describe` reports it and as the server checks it.
public enum ParameterType: String, Sendable, Codable, Hashable {
    case string
    case int
    case bool
    case number
    case object
    case array
    case any

    /// Whether a JSON value has this type (`null` never does: absent and null are the same).
    public func accepts(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.any, _): true
        case (.string, .string), (.bool, .bool), (.object, .object), (.array, .array): true
        case (.int, .int): true
        case (.int, .double(let d)): d.rounded() == d && abs(d) < 9.0e15
        case (.number, .int), (.number, .double): true
        default: false
        }
    }
}

/// One parameter of a method.
public struct ParameterDescriptor: Sendable, Codable, Hashable {
    public var name: String
    public var type: ParameterType
    public var required: Bool
    public var summary: String

    public init(_ name: String, _ type: ParameterType, required: Bool = false, _ summary: String = "") {
        self.name = name
        self.type = type
        self.required = required
        self.summary = summary
    }
}

/// What `Describe` says about a method; the server routes from the same descriptors.
public struct MethodDescriptor: Sendable, Codable, Hashable {
    /// Full name, `io.vectort.<Interface>.<Method>`.
    public var method: String
    /// The lowest role that may call it.
    public var role: Role
    /// Whether it answers `more` calls with a stream of replies.
    public var streams: Bool
    public var parameters: [ParameterDescriptor]
    public var summary: String

    public init(
        method: String, role: Role, streams: Bool = false, parameters: [ParameterDescriptor] = [], summary: String
    ) {
        self.method = method
        self.role = role
        self.streams = streams
        self.parameters = parameters
        self.summary = summary
    }

    /// `io.vectort.Service` for `io.vectort.Service.GetInfo`.
    public var interface: String {
        guard let dot = method.lastIndex(of: ".") else { return method }
        return String(method[..<dot])
    }
}

/// Method and interface names of protocol version 1 that the daemon serves.
public enum MethodName {
    public static let serviceInterface = "io.vectort.Service"
    public static let getInfo = "io.vectort.Service.GetInfo"
    public static let ping = "io.vectort.Service.Ping"
    public static let getHealth = "io.vectort.Service.GetHealth"
    public static let describe = "io.vectort.Service.Describe"
    public static let reload = "io.vectort.Service.Reload"
    public static let getStats = "io.vectort.Service.GetStats"
    public static let eventsSubscribe = "io.vectort.Events.Subscribe"
    public static let usageSummary = "io.vectort.Usage.Summary"
}

/// The protocol version this module speaks.
public let protocolVersion = 1

extension MethodName {
    public static let usersCreate = "io.vectort.Users.Create"
    public static let usersGet = "io.vectort.Users.Get"
    public static let usersList = "io.vectort.Users.List"
    public static let usersDisable = "io.vectort.Users.Disable"
    public static let usersImport = "io.vectort.Users.Import"
    public static let usersConnectAccount = "io.vectort.Users.ConnectAccount"
    public static let usersListAccounts = "io.vectort.Users.ListAccounts"
    public static let usersDisconnectAccount = "io.vectort.Users.DisconnectAccount"
    public static let projectsCreate = "io.vectort.Projects.Create"
    public static let projectsGet = "io.vectort.Projects.Get"
    public static let projectsList = "io.vectort.Projects.List"
    public static let projectsUpdate = "io.vectort.Projects.Update"
    public static let projectsDelete = "io.vectort.Projects.Delete"
    public static let projectsGetCode = "io.vectort.Projects.GetCode"
    public static let projectsListVersions = "io.vectort.Projects.ListVersions"
    public static let projectsExportZip = "io.vectort.Projects.ExportZip"
    public static let projectsGetBuild = "io.vectort.Projects.GetBuild"
    public static let projectsDiff = "io.vectort.Projects.Diff"
    public static let projectsCancelGeneration = "io.vectort.Projects.CancelGeneration"
    public static let projectsRestore = "io.vectort.Projects.Restore"
    public static let projectsBuild = "io.vectort.Projects.Build"
    public static let creditsGetBalance = "io.vectort.Credits.GetBalance"
    public static let creditsListPackages = "io.vectort.Credits.ListPackages"
    public static let creditsHistory = "io.vectort.Credits.History"
    public static let creditsGrant = "io.vectort.Credits.Grant"
    public static let creditsVerify = "io.vectort.Credits.Verify"
    public static let creditsHold = "io.vectort.Credits.Hold"
    public static let creditsSettle = "io.vectort.Credits.Settle"
    public static let creditsRelease = "io.vectort.Credits.Release"
}

extension MethodName {
    public static let projectsImportFiles = "io.vectort.Projects.ImportFiles"
}

extension MethodName {
    public static let projectsGenerate = "io.vectort.Projects.Generate"
    public static let projectsListGenerations = "io.vectort.Projects.ListGenerations"
    public static let providersInterface = "io.vectort.Providers"
    public static let providersList = "io.vectort.Providers.List"
    public static let providersReset = "io.vectort.Providers.Reset"
}
