/// UTC timestamps without Foundation: RFC 3339 for JSON, HH:MM for people.
public enum Timestamp {
    /// `2026-11-29T14:32:05Z` (or with milliseconds when `fraction`).
    public static func rfc3339(_ seconds: Double, fraction: Bool = false) -> String {
        let (y, mo, d, h, mi, s) = civil(seconds)
        let ms = fraction ? Int(((seconds - seconds.rounded(.down)) * 1000).rounded(.down)) : 0
        guard (0...9999).contains(y), (0...999).contains(ms) else {
            // Years outside 0–9999 (not a real answer's time): the general form.
            var out = "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2))"
            if fraction { out += "." + pad(ms, 3) }
            return out + "Z"
        }
        // Every field has a fixed width: written in place, one allocation (a check writes thousands).
        return String(unsafeUninitializedCapacity: fraction ? 24 : 20) { buf in
            var i = 0
            func digits(_ v: Int, _ width: Int) {
                var v = v
                for k in stride(from: width - 1, through: 0, by: -1) { buf[i + k] = 0x30 + UInt8(v % 10); v /= 10 }
                i += width
            }
            func put(_ c: UInt8) { buf[i] = c; i += 1 }
            digits(y, 4); put(0x2D); digits(mo, 2); put(0x2D); digits(d, 2); put(0x54)
            digits(h, 2); put(0x3A); digits(mi, 2); put(0x3A); digits(s, 2)
            if fraction { put(0x2E); digits(ms, 3) }
            put(0x5A)
            return i
        }
    }

    /// `14:32 UTC`, with the date when it is not the same day as `reference`.
    public static func clock(_ seconds: Double, reference: Double) -> String {
        let (y, mo, d, h, mi, _) = civil(seconds)
        let (ry, rmo, rd, _, _, _) = civil(reference)
        let time = "\(pad(h, 2)):\(pad(mi, 2)) UTC"
        return (y, mo, d) == (ry, rmo, rd) ? time : "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2)) \(time)"
    }

    /// `14:32` the same UTC day as `reference`, `+1d` / `+3d` later (tables: 7 columns at most).
    public static func shortClock(_ seconds: Double, reference: Double) -> String {
        let (y, mo, d, h, mi, _) = civil(seconds)
        let (ry, rmo, rd, _, _, _) = civil(reference)
        if (y, mo, d) == (ry, rmo, rd) { return "\(pad(h, 2)):\(pad(mi, 2))" }
        let days = Int((seconds - reference) / 86400)
        return days >= 1 ? "+\(days)d" : "\(pad(h, 2)):\(pad(mi, 2))"
    }

    /// `45s`, `12m`, `3h05m`, `2d04h`.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(max(0, seconds).rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60 == 0 ? "" : pad(s % 60, 2) + "s")" }
        if s < 86400 { return "\(s / 3600)h\(pad((s % 3600) / 60, 2))m" }
        return "\(s / 86400)d\(pad((s % 86400) / 3600, 2))h"
    }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// Howard Hinnant's days-to-civil algorithm.
    static func civil(_ seconds: Double) -> (Int, Int, Int, Int, Int, Int) {
        let t = Int(seconds.rounded(.down))
        var days = t / 86400
        var rem = t % 86400
        if rem < 0 { rem += 86400; days -= 1 }
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (y, m, d, rem / 3600, (rem % 3600) / 60, rem % 60)
    }
}
