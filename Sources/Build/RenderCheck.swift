import Foundation
public import Protocol
import Subprocess
import SystemPackage

/// The optional render check (`build.render_check`): the built site, served from loopback, is
/// loaded in headless Chromium for `build.render_seconds` of virtual time; console errors,
/// uncaught exceptions and failed loads of the site's own files are issues (`rule: "render"`).
/// Generated code must not reach the network: every host name resolves nowhere, and failed
/// loads of other origins are not issues. V8 runs without its JIT (`--jitless`), so the check
/// works under `MemoryDenyWriteExecute=`.
public enum RenderCheck {
    /// The attribute of `<html>` where the probe records what went wrong.
    public static let attribute = "data-probe-errors"

    /// A script put first in `<head>` that records error events (uncaught exceptions, failed
    /// loads), unhandled rejections and `console.error` calls in `attribute`, which
    /// `--dump-dom` prints.
    public static let probe = """
        <script>
        (function () {
          var errors = [];
          function note(text) {
            errors.push(String(text));
            document.documentElement.setAttribute("\(attribute)", JSON.stringify(errors));
          }
          window.addEventListener("error", function (event) {
            var target = event.target;
            if (target && target !== window && (target.src || target.href)) note("failed to load " + (target.src || target.href));
            else note(event.message || "error");
          }, true);
          window.addEventListener("unhandledrejection", function (event) { note("unhandled rejection: " + event.reason); });
          var consoleError = console.error;
          console.error = function () {
            note(Array.prototype.join.call(arguments, " "));
            return consoleError.apply(console, arguments);
          };
        })();
        </script>
        """

    /// `html` with the probe first in its `<head>` (or first in the document without one).
    public static func inject(into html: String) -> String {
        if let head = html.range(of: "<head>", options: .caseInsensitive) {
            return html.replacingCharacters(in: head, with: "<head>\n" + probe)
        }
        return probe + html
    }

    /// The issues Chromium saw loading `site`'s `index.html`.
    static func issues(
        site: [ProjectFile], chromium: String, seconds: Double, scratch: String, timeout: Duration
    ) async throws -> [GenerationIssue] {
        let served = site.map { $0.path == "index.html" ? ProjectFile(path: $0.path, contents: inject(into: $0.contents)) : $0 }
        let server = try await SiteServer.start(served)
        let profile = scratch + "/chromium"
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        let arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--mute-audio", "--disable-breakpad",
            "--js-flags=--jitless", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--enable-logging=stderr", "--v=0", "--user-data-dir=\(profile)",
            "--virtual-time-budget=\(Int(seconds * 1000))", "--dump-dom", server.baseURL + "index.html",
        ]
        let runner = BoundedProcess(executable: chromium, timeout: timeout, maxOutputBytes: 16 * 1024 * 1024, capFiles: false)
        let outcome: BoundedProcess.Outcome
        do {
            outcome = try await runner.run(
                arguments, workingDirectory: scratch,
                environment: ["PATH": "/usr/bin:/bin", "HOME": profile, "XDG_CONFIG_HOME": profile, "XDG_CACHE_HOME": profile])
        } catch {
            try? await server.shutdown()
            throw error
        }
        try? await server.shutdown()
        if outcome.timedOut {
            return [GenerationIssue(path: "index.html", rule: "render", message: "the page did not finish loading in time")]
        }
        var issues: [GenerationIssue] = []
        let own = server.baseURL
        for line in outcome.output.split(separator: "\n") where line.contains(":CONSOLE") {
            // `[…:INFO:CONSOLE:3] "Uncaught Error: …", source: http://127.0.0.1:…/main-X.js (3)`
            guard let open = line.firstIndex(of: "\""), let close = line.lastIndex(of: "\""), open < close else { continue }
            let message = String(line[line.index(after: open)..<close])
            if message.contains("net::ERR_NAME_NOT_RESOLVED") || (message.contains("http") && !message.contains(own)) {
                continue
            }
            issues.append(GenerationIssue(path: "index.html", rule: "render", message: message))
        }
        if let start = outcome.output.range(of: attribute + "=\"") {
            let rest = outcome.output[start.upperBound...]
            let recorded = String(rest[..<(rest.firstIndex(of: "\"") ?? rest.endIndex)])
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
            let messages = (try? JSONDecoder().decode([String].self, from: Data(recorded.utf8))) ?? [recorded]
            for message in messages where !issues.contains(where: { $0.message.contains(message) }) {
                if message.hasPrefix("failed to load http"), !message.contains(own) { continue }
                issues.append(GenerationIssue(path: "index.html", rule: "render", message: message))
            }
        }
        return issues
    }
}
