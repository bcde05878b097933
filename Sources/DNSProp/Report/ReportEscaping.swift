/// Escaping for the postmortem report: every string from the recording (network text:
/// answers, reasons, operator names, NS names) goes through one of these.
public enum ReportEscaping {
    /// For HTML text and attribute values: `HTMLText.escape`, the one HTML escaper.
    public static func html(_ s: String) -> String { HTMLText.escape(s) }

    /// For Markdown text and table cells: control characters made visible, the punctuation that
    /// Markdown (CommonMark, GFM tables and autolinks) reads as syntax inside a line
    /// backslash-escaped (network text never starts a line), and `<`, `>`, `&` as entities so that no inline HTML or
    /// autolink survives.
    public static func markdown(_ s: String) -> String {
        var out = ""
        for ch in TerminalText.escape(s) {
            switch ch {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\\", "`", "*", "_", "{", "}", "[", "]", "(", ")", "!", "|", "~", ":":
                out += "\\" + String(ch)
            default: out.append(ch)
            }
        }
        return out
    }
}
