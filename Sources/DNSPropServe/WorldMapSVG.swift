#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSProp

/// The status page's world map: land from a grid, every resolver placed where the map data says
/// it is (its probe's coordinates, or a point inside its country) and coloured by its status.
/// Equirectangular, 2 user units per degree, cut at 84°N and 58°S like the terminal map
/// (`WorldProjection.standard`): 720 × 284.
public struct WorldMapSVG: Sendable {
    /// Where the land is and where a resolver is.
    public struct Data: Sendable {
        public var columns: Int
        public var rows: Int
        /// Whether grid cell (column, row) is land: column 0 from 180°W eastwards, row 0 from 90°N southwards.
        public var isLand: @Sendable (Int, Int) -> Bool
        public var locate: @Sendable (Resolver) -> (lat: Double, lon: Double)?
        public init(columns: Int, rows: Int, isLand: @escaping @Sendable (Int, Int) -> Bool,
                    locate: @escaping @Sendable (Resolver) -> (lat: Double, lon: Double)?) {
            self.columns = columns
            self.rows = rows
            self.isLand = isLand
            self.locate = locate
        }
        /// No land and no places: the map shows its graticule and lists the resolvers as unplaced.
        public static let empty = Data(columns: 0, rows: 0, isLand: { _, _ in false }, locate: { _ in nil })
    }

    public static let north = 84.0
    public static let south = -58.0
    public static let width = 720.0
    public static let height = (north - south) * 2

    public var data: Data
    public init(data: Data) { self.data = data }

    public static func x(lon: Double) -> Double { (min(max(lon, -180), 180) + 180) * width / 360 }
    public static func y(lat: Double) -> Double { (north - min(max(lat, south), north)) * 2 }

    /// The land as one path of horizontal runs, at most 1 degree per cell.
    public func landPath() -> String {
        guard data.columns > 0, data.rows > 0 else { return "" }
        let step = max(1, data.columns / 360)
        let cols = data.columns / step, rows = data.rows / step
        let cw = Self.width / Double(cols), degreesPerRow = 180 / Double(rows)
        var path = ""
        for row in 0..<rows {
            let top = 90 - Double(row) * degreesPerRow, bottom = top - degreesPerRow
            guard bottom >= Self.south, top <= Self.north else { continue }
            let y0 = Self.y(lat: top), ch = Self.y(lat: bottom) - y0
            var col = 0
            while col < cols {
                guard data.isLand(col * step + step / 2, row * step + step / 2) else { col += 1; continue }
                let start = col
                while col < cols, data.isLand(col * step + step / 2, row * step + step / 2) { col += 1 }
                path += "M\(Self.fmt(Double(start) * cw)) \(Self.fmt(y0))h\(Self.fmt(Double(col - start) * cw))v\(Self.fmt(ch))h-\(Self.fmt(Double(col - start) * cw))z"
            }
        }
        return path
    }

    static func fmt(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// One marker per resolver: resolvers sharing a point are spread on a small spiral around it.
    public struct Marker: Sendable {
        public var row: WatchState.Row
        public var x: Double
        public var y: Double
    }

    public func markers(_ rows: [WatchState.Row]) -> (placed: [Marker], unplaced: [WatchState.Row]) {
        var placed: [Marker] = [], unplaced: [WatchState.Row] = []
        var seen: [String: Int] = [:]
        for row in rows.sorted(by: { $0.resolver.address < $1.resolver.address }) {
            guard let p = data.locate(row.resolver), p.lat.isFinite, p.lon.isFinite else { unplaced.append(row); continue }
            var x = Self.x(lon: p.lon), y = Self.y(lat: p.lat)
            let key = "\(Self.fmt(x)),\(Self.fmt(y))"
            let n = seen[key, default: 0]
            seen[key] = n + 1
            if n > 0 {
                // Golden-angle spiral: the nth marker at the same point, 3.2 units per ring.
                let angle = Double(n) * 2.39996
                let radius = 3.2 * Double(n).squareRoot()
                x += radius * cos(angle)
                y += radius * sin(angle)
            }
            placed.append(Marker(row: row, x: x, y: y))
        }
        return (placed, unplaced)
    }

    /// The `<svg>` element. `landPath` is passed in so that it is computed once per process.
    public func svg(_ rows: [WatchState.Row], landPath: String) -> String {
        var out = "<svg class=\"map\" viewBox=\"0 0 720 \(Self.fmt(Self.height))\" role=\"img\" aria-label=\"World map of the resolvers, coloured by status\">"
        out += "<rect class=\"sea\" x=\"0\" y=\"0\" width=\"720\" height=\"\(Self.fmt(Self.height))\"/>"
        var grid = ""
        for lon in stride(from: -150, through: 150, by: 30) { grid += "M\(Self.fmt(Self.x(lon: Double(lon)))) 0v\(Self.fmt(Self.height))" }
        for lat in stride(from: -30, through: 60, by: 30) { grid += "M0 \(Self.fmt(Self.y(lat: Double(lat))))h720" }
        out += "<path class=\"graticule\" d=\"\(grid)\"/>"
        if !landPath.isEmpty { out += "<path class=\"land\" d=\"\(landPath)\"/>" }
        let (placed, _) = markers(rows)
        // Current ones first, so that the ones still to flip are drawn on top.
        for m in placed.sorted(by: { VerdictPolicy.severityRank($0.row.worst.verdict.status) > VerdictPolicy.severityRank($1.row.worst.verdict.status) }) {
            let status = m.row.worst.verdict.status
            let title = StatusPage.resolverLabel(m.row.resolver) + ": " + status.rawValue
            out += "<circle class=\"dot st-\(status.rawValue)\" cx=\"\(Self.fmt(m.x))\" cy=\"\(Self.fmt(m.y))\" r=\"4\" data-resolver=\"\(HTMLText.escape(m.row.resolver.address.description))\"><title>\(HTMLText.escape(title))</title></circle>"
        }
        out += "</svg>"
        return out
    }
}
