import Foundation
import Testing
import VectortTesting

extension DaemonSuite {
    @Suite("systemd units")
    struct SystemdUnitTests {
        static let script = Binaries.repositoryRoot + "/systemd/check-units.sh"

        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")))
        func unitsVerifyCleanAndScoreAtMostOnePointFive() async throws {
            let result = try await runCommand("/bin/bash", [Self.script, Binaries.vectortd, Binaries.vectortctl])
            #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
            let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("exposure:") })
            let score = try #require(Double(line.dropFirst("exposure:".count).trimmingCharacters(in: .whitespaces)))
            #expect(score <= 1.5)
        }

        @Test func socketUnitOwnsTheControlSocket() async throws {
            let socket = try String(contentsOfFile: Binaries.repositoryRoot + "/systemd/vectortd.socket", encoding: .utf8)
            for line in ["ListenStream=/run/vectortd.sock", "FileDescriptorName=control", "SocketMode=0660", "SocketGroup=vectortd-admin"] {
                #expect(socket.contains(line), "missing \(line)")
            }
            let service = try String(contentsOfFile: Binaries.repositoryRoot + "/systemd/vectortd.service", encoding: .utf8)
            for line in ["Type=notify", "WatchdogSec=", "Restart=on-failure", "StateDirectory=vectortd", "ExecReload=/usr/bin/vectortctl reload --wait"] {
                #expect(service.contains(line), "missing \(line)")
            }
            #expect(!service.contains("\nPrivateUsers=yes"), "PrivateUsers breaks SO_PEERCRED")
        }
    }
}
