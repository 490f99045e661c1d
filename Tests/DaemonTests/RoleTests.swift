import Foundation
import Protocol
import Testing
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

/// Connections from other uids, made with `setpriv` (CI runs as root).
extension DaemonSuite {
    @Suite("Roles from peer credentials", .enabled(if: getuid() == 0), .serialized)
    struct RoleTests {
        static let setpriv = "/usr/bin/setpriv"

        /// A daemon whose admin and client groups are the numeric gids 4243 and 4244.
        private func startDaemon(adminGroup: String = "4243", clientGroup: String = "4244") async throws -> DaemonProcess {
            var options = DaemonProcess.Options()
            options.config = "control:\n  admin_group: \"\(adminGroup)\"\n  client_group: \"\(clientGroup)\"\n"
            let daemon = try await DaemonProcess(options)
            _ = try await daemon.connect()
            // The file mode gates access in production; here every uid may reach SO_PEERCRED.
            chmod(daemon.socketPath, 0o666)
            return daemon
        }

        private func ctl(_ daemon: DaemonProcess, uid: Int, gid: Int, groups: String = "--clear-groups", _ arguments: [String])
            async throws -> CommandResult
        {
            try await runCommand(
                Self.setpriv,
                ["--reuid=\(uid)", "--regid=\(gid)", groups, Binaries.vectortctl]
                    + arguments + ["--socket", daemon.socketPath, "--json"])
        }

        @Test func strangerIsRefusedWithPermissionDenied() async throws {
            let daemon = try await startDaemon()
            let result = try await ctl(daemon, uid: 4242, gid: 4242, ["status"])
            #expect(result.status == 4, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("permission_denied"))
            #expect(daemon.process.isRunning)
        }

        @Test func clientGroupGetsTheClientRoleAndNoAdminMethods() async throws {
            let daemon = try await startDaemon()
            let status = try await ctl(daemon, uid: 4242, gid: 4244, ["status"])
            #expect(status.status == 0, "stderr: \(status.stderr)")
            let report = try JSONDecoder().decode(JSONValue.self, from: Data(status.stdout.utf8))
            #expect(report["info"]?["role"] == "client")
            let reload = try await ctl(daemon, uid: 4242, gid: 4244, ["reload", "--wait"])
            #expect(reload.status == 4)
            #expect(reload.stderr.contains("io.vectort.PermissionDenied"))
            #expect(reload.stderr.contains("\"required_role\":\"admin\""))
            // The providers, yes; every node's (host names and directories), no.
            #expect(try await ctl(daemon, uid: 4242, gid: 4244, ["providers"]).status == 0)
            let fleet = try await ctl(daemon, uid: 4242, gid: 4244, ["providers", "--all-nodes"])
            #expect(fleet.status == 4 && fleet.stderr.contains("io.vectort.PermissionDenied"), "\(fleet.stderr)")
            #expect(try await ctl(daemon, uid: 4242, gid: 4243, ["providers", "--all-nodes"]).status == 0)
        }

        @Test func adminGroupAsPrimaryGroupGetsTheAdminRole() async throws {
            let daemon = try await startDaemon()
            let reload = try await ctl(daemon, uid: 4242, gid: 4243, ["reload", "--wait"])
            #expect(reload.status == 0, "stderr: \(reload.stderr)")
        }

        @Test func supplementaryGroupFromTheAccountCounts() async throws {
            let suffix = String(UInt32.random(in: 10000...99999))
            let group = "vtadm\(suffix)"
            let user = "vtusr\(suffix)"
            #expect(try await runCommand("/usr/sbin/groupadd", [group]).status == 0)
            #expect(try await runCommand("/usr/sbin/useradd", ["--no-create-home", "--user-group", "-G", group, user]).status == 0)
            do {
                try await checkSupplementaryGroup(group: group, user: user)
            } catch {
                await removeAccount(group: group, user: user)
                throw error
            }
            await removeAccount(group: group, user: user)
        }

        private func checkSupplementaryGroup(group: String, user: String) async throws {
            let uid = try #require(Int(try await runCommand("/usr/bin/id", ["-u", user]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            let gid = try #require(Int(try await runCommand("/usr/bin/id", ["-g", user]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            let daemon = try await startDaemon(adminGroup: group)
            // The process itself carries no supplementary groups: the daemon looks them up.
            let status = try await ctl(daemon, uid: uid, gid: gid, ["status"])
            #expect(status.status == 0, "stderr: \(status.stderr)")
            let report = try JSONDecoder().decode(JSONValue.self, from: Data(status.stdout.utf8))
            #expect(report["info"]?["role"] == "admin")
        }

        private func removeAccount(group: String, user: String) async {
            _ = try? await runCommand("/usr/sbin/userdel", [user])
            _ = try? await runCommand("/usr/sbin/groupdel", [group])
        }
    }
}
