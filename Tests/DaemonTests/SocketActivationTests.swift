import CDispatch
import CoreFoundation
import Foundation
import Protocol
import Testing
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

extension DaemonSuite {
    @Suite("Socket activation and the socket file")
    struct SocketActivationTests {
        static let activator = "/usr/bin/systemd-socket-activate"

        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: activator)))
        func servesTheInheritedControlSocket() async throws {
            let directory = try TemporaryDirectory(prefix: "vta")
            let path = directory.file("activated.sock")
            var options = DaemonProcess.Options()
            options.passSocketFlag = false
            // The activator passes on only the variables named with -E.
            options.wrapper = [
                Self.activator, "-l", path, "--fdname=control", "-E", "NOTIFY_SOCKET=\(directory.file("notify.sock"))",
                "-E", "VECTORTD_LOG_TARGET=stderr",
            ]
            let daemon = try await DaemonProcess(options, in: directory)
            // systemd-socket-activate execs the daemon on the first connection.
            let deadline = ContinuousClock.now + .seconds(20)
            var client: AsyncVectortClient?
            while client == nil && ContinuousClock.now < deadline {
                client = try? await AsyncVectortClient.connect(socketPath: path, timeout: 10)
                if client == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            let connected = try #require(client, "output: \(daemon.output)")
            let info = try await connected.call(MethodName.getInfo).decode(as: ServiceInfo.self)
            #expect(info.listeners.control == path)
            let notify = try #require(daemon.notify)
            _ = try #require(await notify.waitFor("READY", "1"))
            #expect(!FileManager.default.fileExists(atPath: daemon.socketPath), "it must not bind its own socket")
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0)
            // The inherited socket belongs to the activator (PID 1 in production): it stays.
            #expect(FileManager.default.fileExists(atPath: path))
        }

        @Test func staleSocketFileIsReplaced() async throws {
            let directory = try TemporaryDirectory(prefix: "vts")
            try FileManager.default.createDirectory(atPath: directory.file("run"), withIntermediateDirectories: true)
            let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            let address = try #require(UnixSocketAddress(path: directory.file("run/vectortd.sock")))
            #expect(address.bind(stale) == nil)
            close(stale)  // a socket file nobody listens on: what a crash leaves behind
            let daemon = try await DaemonProcess(in: directory)
            let client = try await daemon.connect()
            _ = try await client.call(MethodName.ping)
            var st = stat()
            #expect(stat(daemon.socketPath, &st) == 0)
            #expect(st.st_mode & 0o777 == 0o660)
        }

        @Test func refusesToStartOverALiveDaemon() async throws {
            let first = try await DaemonProcess()
            _ = try await first.connect()
            var options = DaemonProcess.Options()
            options.passSocketFlag = false
            options.arguments = ["--socket", first.socketPath]
            let second = try await DaemonProcess(options)
            let status = await second.waitForExit(timeout: .seconds(20))
            #expect(status == 1)
            #expect(second.output.contains("already serving"), "output: \(second.output)")
            let client = try await first.connect()
            _ = try await client.call(MethodName.ping)
            let notify = try #require(second.notify)
            #expect(notify.messages.contains { $0["ERRNO"] != nil && $0["STATUS"]?.hasPrefix("failed") == true })
        }

        @Test func refusesToReplaceAFileThatIsNotASocket() async throws {
            let directory = try TemporaryDirectory(prefix: "vtf")
            try directory.write("run/vectortd.sock", "precious")
            let daemon = try await DaemonProcess(in: directory)
            #expect(await daemon.waitForExit(timeout: .seconds(20)) == 1)
            #expect(try String(contentsOfFile: directory.file("run/vectortd.sock"), encoding: .utf8) == "precious")
        }
    }
}
