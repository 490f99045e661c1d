import Foundation

/// Where the built `vectortd`, `vectortctl` and `vectort-bench` are: `$VECTORT_BIN_DIR`, else
/// next to the running test bundle or benchmark, else `.build/debug` of this checkout.
public enum Binaries {
    public static var directory: String {
        let environment = ProcessInfo.processInfo.environment
        if let dir = environment["VECTORT_BIN_DIR"], !dir.isEmpty { return dir }
        let running = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidate = running.deletingLastPathComponent()
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: candidate.appendingPathComponent("vectortd").path) {
                return candidate.path
            }
            candidate = candidate.deletingLastPathComponent()
        }
        return repositoryRoot + "/.build/debug"
    }

    /// The checkout this library was built from.
    public static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    public static var vectortd: String { directory + "/vectortd" }
    public static var vectortctl: String { directory + "/vectortctl" }
}
