/// Durations as people write them on a command line.
public enum DurationText {
    /// `90`, `90s`, `10m`, `2h`, `1h30m`, `1d` → seconds; nil when unreadable or not positive.
    public static func parse(_ text: String) -> Double? {
        let s = text.lowercased()
        if let plain = Double(s) { return plain > 0 ? plain : nil }
        var total = 0.0, number = "", any = false
        for c in s {
            if c.isNumber || c == "." { number.append(c); continue }
            guard let n = Double(number) else { return nil }
            switch c {
            case "s": total += n
            case "m": total += n * 60
            case "h": total += n * 3600
            case "d": total += n * 86400
            default: return nil
            }
            number = ""
            any = true
        }
        guard number.isEmpty, any, total > 0 else { return nil }
        return total
    }
}
