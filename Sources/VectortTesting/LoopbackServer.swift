import Hummingbird
import Logging
import VectortCore

/// Runs a Hummingbird router on 127.0.0.1 with an ephemeral port, for the loopback fakes;
/// returns once it listens.
enum LoopbackServer {
    static func start(_ router: Router<BasicRequestContext>, label: String) async -> (port: Int, task: Task<Void, any Error>) {
        let port = Locked(0)
        let waiting = Locked<CheckedContinuation<Int, Never>?>(nil)
        let app = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? 0
                port.value = bound
                waiting.withLock {
                    $0?.resume(returning: bound)
                    $0 = nil
                }
            },
            logger: Logger(label: label, factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await app.run() }
        let bound = await withCheckedContinuation { continuation in
            let ready = port.value
            if ready != 0 { continuation.resume(returning: ready) } else { waiting.withLock { $0 = continuation } }
        }
        return (bound, task)
    }
}
