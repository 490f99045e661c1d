import VectortTesting

extension DaemonProcess.Options {
    /// A quiet daemon (`binary`) that generates with `openai` against `fake` (its key `key`),
    /// every user starting with plenty of credits; `build` turns the build step on, `extra`
    /// adds top-level YAML sections (not `log`, `credits`, `build`, `generation`, `providers`).
    static func generating(
        binary: String, fake: FakeLLMServer, key: String, build: Bool = false, extra: String = ""
    ) -> DaemonProcess.Options {
        var options = DaemonProcess.Options()
        options.binary = binary
        options.config = """
            log:
              level: warning
            credits:
              free_on_signup: 100000
            build:
              enabled: \(build)
            generation:
              chain: [openai]
            providers:
              openai:
                base_url: "\(fake.baseURL)"

            """ + extra
        options.credentials["openai-api-key"] = key
        return options
    }
}
