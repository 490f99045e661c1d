import Foundation
import Testing
import VectortTesting

extension DaemonSuite {
    @Suite("Man pages generated from the commands")
    struct ManPageTests {
        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
        func vectortctlManPageListsEveryCommand() async throws {
            let directory = try TemporaryDirectory(prefix: "vtm")
            let dump = try await runCommand(Binaries.vectortctl, ["--experimental-dump-help"])
            #expect(dump.status == 0)
            let json = try directory.write("vectortctl.json", dump.stdout)
            let output = directory.file("vectortctl.1")
            let root = Binaries.repositoryRoot
            let result = try await runCommand(
                "/usr/bin/python3",
                [
                    root + "/tools/gen-manpage.py", "--source", "vectort test", "--extra",
                    root + "/man/vectortctl.sections", "-o", output, json,
                ])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let page = try String(contentsOfFile: output, encoding: .utf8)
            #expect(page.contains(".TH \"VECTORTCTL\" 1"))
            for command in ["status", "ping", "describe", "reload", "call", "users", "projects", "credits"] {
                #expect(page.contains(command), "man page lacks \(command)")
            }
            #expect(page.contains("--socket") || page.contains("\\-\\-socket"))
        }
    }
}
