import VectortCore
import Generation

/// Escapes text from the brief for each place a starter app inserts it. Nothing from the brief
/// reaches a file unescaped, and no escaped form can contain `</file>`, `</script>` or `<!--`.
enum StarterEscaping {
    /// HTML text, or an attribute value in single or double quotes.
    static func html(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// A double-quoted JSON string literal (see `jsonStringContents`).
    static func jsonString(_ text: String) -> String {
        "\"" + jsonStringContents(text) + "\""
    }

    /// The inside of a double-quoted JSON string literal. `<`, `>`, `&` and quotes are written as
    /// `\u` escapes and U+2028/U+2029 are escaped, so between double quotes it is also a valid
    /// JavaScript string anywhere, even inside an HTML `<script>` element.
    static func jsonStringContents(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case "<", ">", "&", "'", "\u{2028}", "\u{2029}":
                escaped += unicodeEscape(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    escaped += unicodeEscape(scalar)
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
    }

    /// The inside of a quoted CSS string: everything but ASCII letters, digits and spaces is a
    /// hex escape, so no text can close the string, the rule or a `<style>` element.
    static func cssStringContents(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            let plain =
                scalar == " " || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                || ("0"..."9").contains(scalar)
            if plain {
                escaped.unicodeScalars.append(scalar)
            } else {
                escaped += "\\" + String(scalar.value, radix: 16) + " "
            }
        }
        return escaped
    }

    /// Inline Markdown text: emphasis, code, link and table characters are backslash-escaped and
    /// HTML's special characters become entities, so the text renders as written.
    static func markdown(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\\", "`", "*", "_", "[", "]", "|", "#", "~":
                escaped += "\\"
                escaped.unicodeScalars.append(scalar)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    private static func unicodeEscape(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
