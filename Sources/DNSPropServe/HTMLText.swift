/// Text for HTML: every character that could end a text node, an attribute value (quoted with
/// either quote) or start markup is written as a character reference. The status page passes all
/// text through here — resolver answers, reasons and names are network text (a hostile TXT or PTR).
public enum HTMLText {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for u in text.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "`": out += "&#96;"
            // Controls (other than tab and line feed) are not allowed in HTML text: show them as U+FFFD.
            case "\t", "\n": out.unicodeScalars.append(u)
            default:
                if u.value < 0x20 || (0x7F...0x9F).contains(u.value) || (0xD800...0xDFFF).contains(u.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }
}
