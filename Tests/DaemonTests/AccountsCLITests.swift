import Foundation
import Protocol
import Testing
import VectortTesting

extension DaemonSuite {
    @Suite("users, projects and credits through vectortctl")
    struct AccountsCLITests {
        /// A started daemon and `vectortctl` pointed at it through `VECTORTD_SOCKET`.
        final class Harness {
            let daemon: DaemonProcess

            init() async throws {
                daemon = try await DaemonProcess()
                _ = try await daemon.connect()
            }

            func ctl(_ arguments: [String], input: String? = nil) async throws -> CommandResult {
                try await runCommand(
                    Binaries.vectortctl, arguments,
                    environment: ["PATH": "/usr/bin:/bin", "VECTORTD_SOCKET": daemon.socketPath], input: input)
            }

            /// Runs with `--json`, expects exit 0 and decodes the one document on stdout.
            func json<T: Decodable>(_ type: T.Type, _ arguments: [String]) async throws -> T {
                let result = try await ctl(arguments + ["--json"])
                try #require(result.status == 0, "\(arguments): \(result.stderr)")
                return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
            }

            func createUser(_ email: String) async throws -> User {
                try await json(User.self, ["users", "create", email])
            }
        }

        /// The JSON error on stderr of a failed `--json` command.
        static func errorName(_ result: CommandResult) throws -> String? {
            try JSONDecoder().decode(JSONValue.self, from: Data(result.stderr.utf8))["error"]?.stringValue
        }

        @Test func createUserAsTableAndJSONAndRefuseADuplicateEmail() async throws {
            let harness = try await Harness()
            let table = try await harness.ctl(["users", "create", "ada@example.com", "--full-name", "Ada Lovelace"])
            #expect(table.status == 0, "stderr: \(table.stderr)")
            #expect(table.stdout.contains("ada@example.com"))
            #expect(table.stdout.contains("Ada Lovelace"))
            #expect(table.stdout.contains("active"))

            let grace = try await harness.createUser("grace@example.com")
            #expect(grace.email == "grace@example.com")
            #expect(grace.status == .active)
            #expect(grace.id.hasPrefix("u_"))

            let duplicate = try await harness.ctl(["users", "create", "GRACE@example.com", "--json"])
            #expect(duplicate.status == 2)
            #expect(duplicate.stdout.isEmpty)
            #expect(try Self.errorName(duplicate) == "io.vectort.AlreadyExists")

            let shown = try await harness.json(User.self, ["users", "show", grace.id])
            #expect(shown == grace)
            let all = try await harness.json(UserPage.self, ["users", "list", "--limit", "1", "--all"])
            #expect(all.users.map(\.email) == ["ada@example.com", "grace@example.com"])
            #expect(all.nextAfter == nil)
            let first = try await harness.json(UserPage.self, ["users", "list", "--limit", "1"])
            #expect(first.users.count == 1)
            #expect(first.nextAfter != nil)
        }

        @Test func passwordComesFromStandardInputOnly() async throws {
            let harness = try await Harness()
            let created = try await harness.ctl(
                ["users", "create", "pw@example.com", "--password-stdin"], input: "correct horse\n")
            #expect(created.status == 0, "stderr: \(created.stderr)")
            let short = try await harness.ctl(["users", "create", "short@example.com", "--password-stdin", "--json"], input: "abc\n")
            #expect(short.status == 2)
            #expect(try Self.errorName(short) == "io.vectort.InvalidParameter")
            #expect(try await harness.ctl(["users", "create", "x@example.com", "--password", "secret123"]).status == 64)
        }

        @Test func balanceGrantHistoryAndPackages() async throws {
            let harness = try await Harness()
            let user = try await harness.createUser("credits@example.com")

            let balanceTable = try await harness.ctl(["credits", "balance", user.id])
            #expect(balanceTable.status == 0, "stderr: \(balanceTable.stderr)")
            let lines = balanceTable.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
            #expect(lines.contains("total 10"))
            #expect(lines.contains("free 10"))
            let balance = try await harness.json(CreditBalance.self, ["credits", "balance", user.id])
            #expect(balance.total == 10)
            #expect(balance.buckets["free"] == 10)

            let grant = try await harness.json(
                CreditGrant.self, ["credits", "grant", user.id, "25", "--reason", "support", "--bucket", "topup"])
            #expect(grant.balance.total == 35)
            let history = try await harness.json(CreditHistory.self, ["credits", "history", user.id])
            #expect(history.entries.map(\.amount) == [25, 10])
            #expect(history.entries.map(\.bucket) == [.topup, .free])
            #expect(history.entries.allSatisfy { $0.kind == "grant" })
            #expect(history.entries[0].id > history.entries[1].id)
            let historyTable = try await harness.ctl(["credits", "history", user.id])
            #expect(historyTable.stdout.contains("+25"))

            let packages = try await harness.ctl(["credits", "packages"])
            #expect(packages.status == 0)
            let rows = packages.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
            #expect(rows.map { $0.first ?? "" } == ["micro", "starter", "standard", "pro"])
            #expect(rows.map { $0.last ?? "" } == ["$10.00", "$20.00", "$50.00", "$100.00"])
            let list = try await harness.json(CreditPackageList.self, ["credits", "packages"])
            #expect(list.packages.map(\.credits) == [10, 80, 250, 600])
        }

        @Test func holdThenSettleForLessLeavesTheRestAndVerifiesClean() async throws {
            let harness = try await Harness()
            let user = try await harness.createUser("hold@example.com")
            let hold = try await harness.json(CreditHold.self, ["credits", "hold", user.id, "4", "--reference", "gen-1"])
            #expect(hold.status == .held)
            #expect(try await harness.json(CreditBalance.self, ["credits", "balance", user.id]).held == 4)
            let settled = try await harness.json(CreditHold.self, ["credits", "settle", hold.id, "--amount", "3"])
            #expect(settled.status == .settled)
            #expect(settled.charged == 3)
            let balance = try await harness.json(CreditBalance.self, ["credits", "balance", user.id])
            #expect(balance.total == 7)
            #expect(balance.held == 0)

            let second = try await harness.json(CreditHold.self, ["credits", "hold", user.id, "2", "--reference", "gen-2"])
            #expect(try await harness.json(CreditHold.self, ["credits", "release", second.id]).status == .released)
            #expect(try await harness.json(CreditBalance.self, ["credits", "balance", user.id]).total == 7)

            let tooMuch = try await harness.ctl(["credits", "hold", user.id, "8", "--reference", "gen-3", "--json"])
            #expect(tooMuch.status == 2)
            #expect(try Self.errorName(tooMuch) == "io.vectort.InsufficientCredits")

            let verify = try await harness.ctl(["credits", "verify"])
            #expect(verify.status == 0, "stderr: \(verify.stderr)")
            #expect(verify.stdout.hasPrefix("ok: "))
            #expect(try await harness.json(CreditVerification.self, ["credits", "verify"]).ok)
        }

        @Test func invalidArgumentsAreUsageErrorsBeforeAnyCall() async throws {
            let harness = try await Harness()
            let user = try await harness.createUser("usage@example.com")
            let invalid: [[String]] = [
                ["credits", "hold", user.id, "0", "--reference", "r"],
                ["credits", "grant", user.id, "0", "--reason", "r"],
                ["credits", "grant", user.id, "five", "--reason", "r"],
                ["credits", "grant", user.id, "5", "--reason", "r", "--bucket", "gold"],
                ["credits", "grant", user.id, "5", "--reason", "r", "--expires-at", "2099-01-01T00:00:00Z"],
                ["credits", "grant", user.id, "5", "--reason", "r", "--bucket", "monthly", "--expires-at", "tomorrow"],
                ["credits", "settle", "h_1", "--amount", "-1"],
                ["users", "list", "--limit", "0"],
                ["users", "list", "--limit", "501"],
                ["credits", "history", user.id, "--limit", "1000"],
            ]
            for arguments in invalid {
                #expect(try await harness.ctl(arguments).status == 64, "\(arguments)")
            }
            let history = try await harness.json(CreditHistory.self, ["credits", "history", user.id])
            #expect(history.entries.count == 1)
        }

        @Test func disabledUserCannotHoldCredits() async throws {
            let harness = try await Harness()
            let user = try await harness.createUser("gone@example.com")
            let disabled = try await harness.ctl(["users", "disable", user.id])
            #expect(disabled.status == 0, "stderr: \(disabled.stderr)")
            #expect(try await harness.json(User.self, ["users", "show", user.id]).status == .disabled)
            let hold = try await harness.ctl(["credits", "hold", user.id, "1", "--reference", "r", "--json"])
            #expect(hold.status == 2)
            #expect(try Self.errorName(hold) == "io.vectort.Conflict")
            #expect(try await harness.json(CreditBalance.self, ["credits", "balance", user.id]).held == 0)
        }

        @Test func projectsCreateListShowAndDelete() async throws {
            let harness = try await Harness()
            let user = try await harness.createUser("owner@example.com")
            let project = try await harness.json(
                Project.self, ["projects", "create", user.id, "Landing page", "--description", "for a bakery", "--type", "web"])
            #expect(project.status == .draft)
            #expect(project.type == "web")
            let table = try await harness.ctl(["projects", "list", user.id])
            #expect(table.status == 0)
            #expect(table.stdout.contains(project.id))
            #expect(table.stdout.contains("Landing page"))
            #expect(try await harness.json(ProjectPage.self, ["projects", "list", user.id]).projects == [project])
            #expect(try await harness.json(Project.self, ["projects", "show", project.id]) == project)
            #expect(try await harness.ctl(["projects", "show", project.id]).stdout.contains("for a bakery"))

            #expect(try await harness.json(Done.self, ["projects", "delete", project.id]).id == project.id)
            let gone = try await harness.ctl(["projects", "show", project.id, "--json"])
            #expect(gone.status == 2)
            #expect(try Self.errorName(gone) == "io.vectort.NotFound")
        }

        @Test func unknownProjectIsNotFound() async throws {
            let harness = try await Harness()
            for command in ["show", "versions", "code"] {
                let result = try await harness.ctl(["projects", command, "p_0000000000000000", "--json"])
                #expect(result.status == 2)
                #expect(result.stdout.isEmpty)
                #expect(try Self.errorName(result) == "io.vectort.NotFound")
            }
        }

        @Test func binaryFilesAndTextWithNULGoThroughImportAndCodeByteForByte() async throws {
            let harness = try await Harness()
            let user = try await harness.createUser("binary@example.com")
            let project = try await harness.json(Project.self, ["projects", "create", user.id, "Images"])
            let source = try TemporaryDirectory(prefix: "vtb")
            let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0xFF, 0xFE])
            try png.write(to: URL(fileURLWithPath: source.file("logo.png")))
            _ = try source.write("page.html", "<p>before\u{0}after</p>")

            let imported = try await harness.json(VersionSummary.self, ["projects", "import", project.id, source.path])
            #expect(imported.files == 2)
            #expect(imported.bytes == png.count + "<p>before\u{0}after</p>".utf8.count)
            let output = try TemporaryDirectory(prefix: "vtbo")
            let written = try await harness.ctl(["code", project.id, "-o", output.file("out")])
            #expect(written.status == 0, "stderr: \(written.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: output.file("out/logo.png"))) == png)
            #expect(try Data(contentsOf: URL(fileURLWithPath: output.file("out/page.html"))) == Data("<p>before\u{0}after</p>".utf8))
            let shown = try await harness.ctl(["projects", "code", project.id, "--path", "logo.png"])
            #expect(shown.stdout.contains("a binary file of \(png.count) bytes"))
        }

        @Test func diffAndRestoreVersionsThroughTheCLI() async throws {
            let harness = try await Harness()
            let user = try await harness.createUser("diff@example.com")
            let project = try await harness.json(Project.self, ["projects", "create", user.id, "Diffs"])
            for (index, text) in ["one\ntwo\nthree\n", "one\n2\nthree\n"].enumerated() {
                let source = try TemporaryDirectory(prefix: "vtdf\(index)")
                _ = try source.write("a.txt", text)
                _ = try await harness.json(VersionSummary.self, ["projects", "import", project.id, source.path])
            }
            let diff = try await harness.ctl(["diff", project.id, "1", "2"])
            #expect(diff.status == 0, "\(diff.stderr)")
            #expect(diff.stdout == "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n", "plain when piped")
            let json = try await harness.json(VersionDiff.self, ["diff", project.id, "1", "2"])
            #expect(json.files.map(\.status) == [.changed])

            let restored = try await harness.json(VersionSummary.self, ["restore", project.id, "1"])
            #expect(restored.number == 3)
            #expect(try await harness.ctl(["diff", project.id, "1", "3"]).stdout.contains("have the same files"))
            let again = try await harness.ctl(["restore", project.id, "3", "--json"])
            #expect(again.status != 0)
            #expect(try Self.errorName(again) == "io.vectort.NothingChanged")
        }

        @Test func importADirectoryThenReadAndExportTheVersion() async throws {
            let harness = try await Harness()
            let user = try await harness.createUser("import@example.com")
            let project = try await harness.json(Project.self, ["projects", "create", user.id, "Site"])
            let source = try TemporaryDirectory(prefix: "vti")
            let files = [
                "index.html": "<h1>Hello</h1>\n",
                "src/app.js": "console.log('héllo ✓')\n",
                "src/lib/deep/util.js": "export const x = 1",
                ".env.example": "KEY=\n",
            ]
            for (path, contents) in files { try source.write(path, contents) }
            try source.write(".git/HEAD", "ref: refs/heads/main\n")

            let imported = try await harness.json(VersionSummary.self, ["projects", "import", project.id, source.path])
            #expect(imported.number == 1)
            #expect(imported.files == files.count)
            #expect(imported.current)

            let code = try await harness.json(ProjectCode.self, ["projects", "code", project.id])
            #expect(Dictionary(uniqueKeysWithValues: code.files.map { ($0.path, $0.contents) }) == files)
            let codeTable = try await harness.ctl(["projects", "code", project.id])
            #expect(codeTable.stdout.contains("src/lib/deep/util.js"))
            #expect(!codeTable.stdout.contains(".git/"))
            let raw = try await harness.ctl(["projects", "code", project.id, "--path", "src/app.js", "--version", "1"])
            #expect(raw.status == 0)
            #expect(raw.stdout == files["src/app.js"])

            let versions = try await harness.json(VersionList.self, ["projects", "versions", project.id])
            #expect(versions.versions.map(\.id) == [imported.id])
            #expect(try await harness.ctl(["projects", "versions", project.id]).stdout.contains(imported.id))

            let output = try TemporaryDirectory(prefix: "vtz")
            let zip = output.file("site.zip")
            let written = try await harness.ctl(["projects", "export-zip", project.id, "-o", zip])
            #expect(written.status == 0, "stderr: \(written.stderr)")
            let size = try Data(contentsOf: URL(fileURLWithPath: zip)).count
            #expect(written.stdout == "wrote \(zip) (\(size) bytes, version \(imported.id))\n")
            let listing = try await runCommand(
                "/usr/bin/python3",
                [
                    "-c",
                    """
                    import json, sys, zipfile
                    with zipfile.ZipFile(sys.argv[1]) as z:
                        assert z.testzip() is None
                        print(json.dumps({n: z.read(n).hex() for n in z.namelist()}))
                    """,
                    zip,
                ])
            #expect(listing.status == 0, "stderr: \(listing.stderr)")
            let entries = try JSONDecoder().decode([String: String].self, from: Data(listing.stdout.utf8))
            #expect(entries == files.mapValues { Data($0.utf8).map { String(format: "%02x", $0) }.joined() })

            let before = try Data(contentsOf: URL(fileURLWithPath: zip))
            try Data("keep me".utf8).write(to: URL(fileURLWithPath: zip))
            let refused = try await harness.ctl(["projects", "export-zip", project.id, "-o", zip])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("--force"))
            #expect(try String(contentsOfFile: zip, encoding: .utf8) == "keep me")
            let forced = try await harness.ctl(["projects", "export-zip", project.id, "--version", "1", "-o", zip, "--force"])
            #expect(forced.status == 0, "stderr: \(forced.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: zip)) == before)

            let unwritable = try await harness.ctl(["projects", "export-zip", project.id, "-o", output.file("missing/dir/x.zip")])
            #expect(unwritable.status == 1)
            #expect(unwritable.stderr.contains("No such file or directory"))
        }

        @Test func globalOptionsMayComeBeforeAGroupCommand() async throws {
            let harness = try await Harness()
            _ = try await harness.createUser("first@example.com")
            let result = try await harness.ctl(["--json", "--timeout", "5", "users", "list"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(try JSONDecoder().decode(UserPage.self, from: Data(result.stdout.utf8)).users.count == 1)
        }
    }
}
