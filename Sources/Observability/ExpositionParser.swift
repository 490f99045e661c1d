public import Protocol

/// Reads the Prometheus text format (0.0.4) the registry writes back into families and samples,
/// so `Service.GetStats` reports exactly what `/metrics` serves. It reads what the registry
/// writes: `# HELP`, `# TYPE`, and sample lines `name{label="value",…} number`.
public enum ExpositionParser {
    public static func parse(_ text: String) -> [MetricFamily] {
        var families: [MetricFamily] = []
        var index: [String: Int] = [:]

        func family(_ name: String) -> Int {
            if let found = index[name] { return found }
            families.append(MetricFamily(name: name, type: "untyped", help: "", samples: []))
            index[name] = families.count - 1
            return families.count - 1
        }

        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst(7)
                let name = rest.prefix { $0 != " " }
                let help = rest.dropFirst(name.count).drop { $0 == " " }
                families[family(String(name))].help = unescape(help)
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                if parts.count == 2 { families[family(String(parts[0]))].type = String(parts[1]) }
            } else if !line.hasPrefix("#"), let sample = sample(line) {
                families[family(owner(of: sample.name, in: index))].samples.append(sample)
            }
        }
        return families
    }

    /// A histogram's `_bucket`, `_sum` and `_count` samples belong to its family.
    private static func owner(of sample: String, in index: [String: Int]) -> String {
        if index[sample] != nil { return sample }
        for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if index[base] != nil { return base }
        }
        return sample
    }

    private static func sample(_ line: Substring) -> MetricSample? {
        var rest = line[...]
        let name = rest.prefix { $0 != "{" && $0 != " " }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while let first = rest.first, first != "}" {
                if first == "," || first == " " {
                    rest = rest.dropFirst()
                    continue
                }
                let key = rest.prefix { $0 != "=" }
                rest = rest.dropFirst(key.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        value.append(character == "n" ? "\n" : character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        value.append(character)
                    }
                }
                labels[String(key)] = value
            }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard let text = fields.first, let value = number(text) else { return nil }
        return MetricSample(name: String(name), labels: labels, value: value)
    }

    private static func number(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }

    private static func unescape(_ text: Substring) -> String {
        var result = ""
        var escaped = false
        for character in text {
            if escaped {
                result.append(character == "n" ? "\n" : character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}
