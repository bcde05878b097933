/// Text for HTML (the status page, the postmortem report): network text (answers, reasons,
/// operator and NS names; a hostile TXT or PTR) first made visible like any text for a
/// terminal (`TerminalText.escape`: controls, bidi overrides, zero-width and other invisible
/// characters as `\x..` / `\u{..}`), then every character that could end a text node or an
/// attribute value (quoted with either quote) or start markup written as a character reference.
public enum HTMLText {
    public static func escape(_ text: String) -> String {
        let visible = TerminalText.escape(text)
        var out = ""
        out.reserveCapacity(visible.utf8.count)
        for u in visible.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "`": out += "&#96;"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
