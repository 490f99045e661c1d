import ArgumentParser
import AsyncHTTPClient
import Engine
import Foundation
import Logging
import NIOPosix
import Protocol
import Storage
import VectortCore
import VectortTesting

#if canImport(Glibc)
import Glibc
#endif

struct DeployBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Thousands of deploy jobs in flight against a fake Vercel, on a test clock: memory, CPU per poll, requests.",
        discussion: """
            Queues --jobs deployments of one built version on the engine's own storage (SQLite on disk) and runs \
            the one poller against a loopback fake Vercel whose deployments go QUEUED → BUILDING → READY over two \
            polls. Time is a test clock moved a second at a time, so minutes of the schedule (2, 5, 10, then 20 to \
            30 s) pass in seconds. Prints the resident memory added per 1,000 jobs in flight (goal: < 50 MB at \
            10,000), the poller's CPU per poll, and the requests made against the minimum the schedule needs (one \
            create and two polls per job; goal ratio ≤ 1.1). A burst of 429s with Retry-After is injected midway: \
            no request may reach the fake while it is pending.
            """)

    @Option(help: "Deploy jobs in flight.")
    var jobs = 10_000

    func run() async throws {
        let vercel = try await FakeVercel.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vtdeploy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = TestClock(date: Date(timeIntervalSince1970: 1_800_000_000))
        var logger = Logger(label: "deploy-bench")
        logger.logLevel = .error
        let engine = try Engine.open(
            Engine.Options(databasePath: directory.appendingPathComponent("vectortd.sqlite").path, clock: clock), logger: logger)
        let writer = Task { await engine.run() }
        var pool = HTTPClient.Configuration()
        pool.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: pool)
        let settings = DeploySettings(
            stuckMinutes: 600, vercel: .init(apiBase: vercel.baseURL, token: vercel.token, deadlineMinutes: 6000),
            maxConcurrentCalls: 32)
        let deployments = engine.deployments(http: http, settings: { settings }, clock: clock, logger: logger)

        let user = try await engine.users.create(email: "deploys@example.com").id
        let project = try await engine.projects.create(user: user, title: "Bench").id
        let version = try await engine.versions.store(
            project: project, owner: user, files: [ProjectFile(path: "index.html", contents: "<p>bench</p>\n")])
        _ = try await engine.storage.versions.storeBuild(
            project: project, owner: user, version: version.id,
            build: VersionBuild(status: .ok, durationMs: 1, errors: [], files: [ProjectFile(path: "index.html", contents: "<p>bench</p>\n")]),
            now: clock.date)

        let rssBefore = Self.rssBytes()
        for _ in 0..<jobs {
            _ = try await deployments.start(project: project, owner: user, platform: "vercel", version: nil, settings: nil, idempotencyKey: nil)
        }
        let rssQueued = Self.rssBytes()
        print("vectort-bench deploy: \(jobs) jobs queued against a fake Vercel")
        let cpuBefore = Self.cpuSeconds()
        let poller = Task { await deployments.run(interval: .milliseconds(250)) }
        var maxRSS = Self.rssBytes()
        var second = 0
        var throttledAt: Int?
        var requestsWhileBlocked = 0
        while try await deployments.inFlight() > 0 && second < 20_000 {
            let before = vercel.log.count
            clock.advance(by: .seconds(1))
            second += 1
            // Let the poller run the steps that came due, then measure.
            try await Task.sleep(for: .milliseconds(2))
            while clock.sleeperCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
            if second == 3 {
                vercel.throttle(5, retryAfter: 60)
                throttledAt = second
            }
            if let at = throttledAt, second > at, second < at + 60, vercel.log.count > before,
                vercel.log.contains(where: \.throttled)
            {
                let lastThrottle = vercel.log.lastIndex(where: \.throttled) ?? 0
                if lastThrottle < before { requestsWhileBlocked += vercel.log.count - before }
            }
            maxRSS = max(maxRSS, Self.rssBytes())
        }
        poller.cancel()
        clock.advance(by: .seconds(1))
        _ = await poller.value
        let cpu = Self.cpuSeconds() - cpuBefore
        let requests = vercel.log.count
        let polls = vercel.log.filter { $0.method == "GET" }.count
        let minimum = 3 * jobs
        let remaining = try await deployments.inFlight()
        print("")
        let queuedMB = Double(rssQueued - rssBefore) / 1_048_576
        let peakMB = Double(maxRSS - rssBefore) / 1_048_576
        print(String(format: "memory: %.1f MB resident added by %d jobs in flight (%.2f MB per 1,000) ", queuedMB, jobs, queuedMB / Double(jobs) * 1000)
              + "(goal < 50 MB at 10,000: \(queuedMB * 10_000 / Double(jobs) < 50 ? "met" : "NOT met")); "
              + String(format: "%.1f MB at the peak of polling, the fake's copies of every deployment included", peakMB))
        print(String(format: "CPU: %.1f µs per platform request in this process (poller, HTTP client and the fake together), %d requests",
                     cpu / Double(max(requests, 1)) * 1e6, requests))
        let throttled = vercel.log.filter(\.throttled).count
        print(String(format: "requests: %d against the minimum %d (one create, two polls per job): ratio %.3f ", requests - throttled, minimum,
                     Double(requests - throttled) / Double(minimum)) + "(goal ≤ 1.1; the \(throttled) answered 429 not counted)")
        print("after the 429 burst: \(requestsWhileBlocked) requests sent while its Retry-After was pending (goal 0)")
        print("\(polls) status polls; \(jobs - remaining) of \(jobs) jobs ended, \(second) s of test clock")
        engine.stop()
        await writer.value
        try? await http.shutdown()
        await vercel.shutdown()
    }

    static func rssBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
