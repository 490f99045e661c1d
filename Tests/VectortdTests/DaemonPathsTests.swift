import Foundation
import Testing

@testable import VectortDaemon

@Suite("DaemonPaths: flags, systemd's environment, then defaults")
struct DaemonPathsTests {
    typealias Flags = DaemonPaths.Flags

    static func resolve(
        _ flags: Flags = Flags(), configured: String? = nil, environment: [String: String] = [:], isRoot: Bool = true
    ) -> DaemonPaths {
        DaemonPaths.resolve(
            flags: flags, configuredSocket: configured, environment: environment, isRoot: isRoot,
            homeDirectory: "/home/ada")
    }

    @Test func rootWithoutSystemdUsesTheSystemLocations() {
        let paths = Self.resolve()
        #expect(paths == DaemonPaths(
            stateDirectory: "/var/lib/vectortd", runtimeDirectory: "/run/vectortd", credentialsDirectory: nil,
            socket: "/run/vectortd.sock"))
    }

    @Test func socketFlagWinsOverEverything() {
        let paths = Self.resolve(
            Flags(runtimeDirectory: "/run/flag", socket: "/tmp/flag.sock"), configured: "/tmp/configured.sock",
            environment: ["VECTORTD_SOCKET": "/tmp/env.sock", "RUNTIME_DIRECTORY": "/run/systemd"])
        #expect(paths.socket == "/tmp/flag.sock")
    }

    @Test func socketVariableWinsOverConfigurationAndRuntimeDirectory() {
        let paths = Self.resolve(
            configured: "/tmp/configured.sock",
            environment: ["VECTORTD_SOCKET": "/tmp/env.sock", "RUNTIME_DIRECTORY": "/run/systemd"])
        #expect(paths.socket == "/tmp/env.sock")
    }

    @Test func emptySocketVariableIsIgnored() {
        let paths = Self.resolve(configured: "/tmp/configured.sock", environment: ["VECTORTD_SOCKET": ""])
        #expect(paths.socket == "/tmp/configured.sock")
    }

    @Test func configuredSocketWinsOverTheRuntimeDirectory() {
        let paths = Self.resolve(configured: "/tmp/configured.sock", environment: ["RUNTIME_DIRECTORY": "/run/systemd"])
        #expect(paths.socket == "/tmp/configured.sock")
    }

    @Test func systemdRuntimeDirectoryHoldsTheSocket() {
        let paths = Self.resolve(environment: ["RUNTIME_DIRECTORY": "/run/vectortd-a:/run/vectortd-b"])
        #expect(paths.runtimeDirectory == "/run/vectortd-a")
        #expect(paths.socket == "/run/vectortd-a/vectortd.sock")
    }

    @Test func runtimeDirectoryFlagWinsOverSystemdAndHoldsTheSocket() {
        let paths = Self.resolve(
            Flags(runtimeDirectory: "/run/flag"), environment: ["RUNTIME_DIRECTORY": "/run/systemd"])
        #expect(paths.runtimeDirectory == "/run/flag")
        #expect(paths.socket == "/run/flag/vectortd.sock")
    }

    @Test func stateDirectoryFromFlagThenSystemdThenDefault() {
        #expect(Self.resolve(Flags(stateDirectory: "/srv/state"), environment: ["STATE_DIRECTORY": "/var/lib/a"])
            .stateDirectory == "/srv/state")
        #expect(Self.resolve(environment: ["STATE_DIRECTORY": "/var/lib/a:/var/lib/b"]).stateDirectory == "/var/lib/a")
    }

    @Test func credentialsDirectoryFromFlagThenSystemd() {
        #expect(Self.resolve(environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/vectortd.service"])
            .credentialsDirectory == "/run/credentials/vectortd.service")
        #expect(Self.resolve(
            Flags(credentialsDirectory: "/etc/creds"), environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/x"]
        ).credentialsDirectory == "/etc/creds")
    }

    @Test func normalUserUsesXDGDirectories() {
        let paths = Self.resolve(
            environment: ["XDG_RUNTIME_DIR": "/run/user/1000", "XDG_STATE_HOME": "/home/ada/state"], isRoot: false)
        #expect(paths.runtimeDirectory == "/run/user/1000/vectortd")
        #expect(paths.socket == "/run/user/1000/vectortd/vectortd.sock")
        #expect(paths.stateDirectory == "/home/ada/state/vectortd")
    }

    @Test func normalUserWithoutXDGUsesHomeAndTmp() {
        let paths = Self.resolve(isRoot: false)
        #expect(paths.stateDirectory == "/home/ada/.local/state/vectortd")
        #expect(paths.runtimeDirectory == "/tmp/vectortd-\(getuid())")
        #expect(paths.socket == "/tmp/vectortd-\(getuid())/vectortd.sock")
    }

    @Test func relativePathsAreMadeAbsolute() {
        let cwd = FileManager.default.currentDirectoryPath
        let paths = Self.resolve(Flags(stateDirectory: "state", socket: "run/v.sock"))
        #expect(paths.stateDirectory == cwd + "/state")
        #expect(paths.socket == cwd + "/run/v.sock")
    }

    @Test func relativeDatabasePathIsUnderTheStateDirectory() {
        let paths = Self.resolve()
        #expect(paths.databasePath("vectortd.sqlite") == "/var/lib/vectortd/vectortd.sqlite")
        #expect(paths.databasePath("/srv/db.sqlite") == "/srv/db.sqlite")
    }
}
