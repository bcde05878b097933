/// Where there is land, on a 0.5-degree equirectangular grid reduced from Natural Earth's
/// 1:10m countries (public domain) by Scripts/make-land-mask; see LandMaskData.swift for the
/// source, version and licence. Read-only data, decoded once.
public enum LandMask {
    /// Grid size: 720 columns from 180°W eastwards, 360 rows from 90°N southwards.
    public static let columns = LandMaskData.width
    public static let rows = LandMaskData.height

    /// Whether the 0.5° cell holding (lat, lon) is land. Latitudes are clamped to ±90,
    /// longitudes wrapped into [-180, 180); a non-finite coordinate is never land.
    public static func isLand(lat: Double, lon: Double) -> Bool {
        guard lat.isFinite, lon.isFinite else { return false }
        let clampedLat = min(max(lat, -90), 90)
        var wrapped = (lon + 180).truncatingRemainder(dividingBy: 360)
        if wrapped < 0 { wrapped += 360 }
        let row = min(rows - 1, Int((90 - clampedLat) * Double(rows) / 180))
        let column = min(columns - 1, Int(wrapped * Double(columns) / 360))
        return isLand(column: column, row: row)
    }

    /// Whether grid cell (column, row) is land; false outside the grid.
    public static func isLand(column: Int, row: Int) -> Bool {
        guard column >= 0, column < columns, row >= 0, row < rows else { return false }
        let k = row * columns + column
        return bits[k >> 3] & (0x80 >> UInt8(k & 7)) != 0
    }

    /// The packed grid: row-major, most significant bit first.
    public static let bits: [UInt8] = {
        let decoded = Base64.decode(LandMaskData.base64)
        precondition(decoded.count == columns * rows / 8, "LandMaskData is corrupt: run Scripts/make-land-mask")
        return decoded
    }()
}

/// Standard base64 (RFC 4648 §4) of generated data; whitespace is skipped.
enum Base64 {
    static func decode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var acc: UInt32 = 0
        var n = 0
        for c in text.utf8 {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            default: continue   // padding and line breaks
            }
            acc = acc << 6 | v
            n += 1
            if n == 4 {
                out.append(UInt8(acc >> 16 & 0xFF)); out.append(UInt8(acc >> 8 & 0xFF)); out.append(UInt8(acc & 0xFF))
                acc = 0; n = 0
            }
        }
        if n == 3 { out.append(UInt8(acc >> 10 & 0xFF)); out.append(UInt8(acc >> 2 & 0xFF)) }
        if n == 2 { out.append(UInt8(acc >> 4 & 0xFF)) }
        return out
    }
}
