import Engine
import Logging
import NIOCore
import NIOPosix
import Protocol
import Testing
import VectortTesting

@testable import VectortDaemon

@Suite("A failed accept shows in GetHealth")
struct AcceptFailureHealthTests {
    @Test func theAcceptCheckIsDegradedForAMinuteAfterAnAcceptFailed() async throws {
        let directory = try TemporaryDirectory(prefix: "vth")
        let logger = Logger(label: "vectortd.test")
        let engine = try Engine.open(Engine.Options(databasePath: directory.file("db.sqlite")), logger: logger)
        let running = Task { await engine.run() }
        let state = ControlServerState(
            methods: MethodTable(),
            settings: ControlSettings(
                roles: RoleResolver(adminGroup: "0", clientGroup: "0", daemonUID: 0), maxConnections: 8,
                maxPipelinedCalls: 8, maxMessageBytes: 1024),
            logger: logger)
        let health = HealthMonitor(
            engine: engine, controlLoop: MultiThreadedEventLoopGroup.singleton.next(),
            sinceLastAcceptFailure: { state.sinceLastAcceptFailure })

        #expect(await health.check().checks["accept"]?.status == .ok)
        state.acceptFailed(IOError(errnoCode: EMFILE, reason: "accept"))
        let report = await health.check()
        #expect(report.checks["accept"]?.status == .degraded)
        #expect(report.status == .degraded)
        #expect(state.sinceLastAcceptFailure.map { $0 < .seconds(60) } == true)

        engine.stop()
        await running.value
    }
}
