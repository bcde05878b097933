
/// The world map of the watch screen (`m`): land in Unicode braille (2×4 dots a character
/// cell) from `LandMask`, each resolver a mark in the cell of its location (`Coordinates`),
/// coloured by status with `StatusStyle`, or its status letter when colour is off. Where
/// several resolvers share a cell the worst status shows (`VerdictPolicy.severityRank`).
/// Pure: lines for a size.
public struct WatchMap: Sendable {
    /// Character cells.
    public var width: Int
    public var height: Int
    public var projection: WorldProjection

    /// One marked cell: where, the worst status in it and how many resolvers it holds.
    public struct Mark: Sendable, Equatable {
        public var column: Int
        public var row: Int
        public var status: VerdictStatus
        public var count: Int
    }

    public init(width: Int, height: Int, projection: WorldProjection = .standard) {
        self.width = max(1, width)
        self.height = max(1, height)
        self.projection = projection
    }

    /// The largest map that fits `width`×`height` characters with the world's proportions
    /// (a braille dot is about square, a character two dots wide and four high).
    public static func fitting(width: Int, height: Int, projection: WorldProjection = .standard) -> WatchMap {
        let ratio = 360 / (projection.north - projection.south)   // width / height in degrees
        // characters: (2w) / (4h) = ratio  →  w = 2 · ratio · h
        let w = min(width, Int((2 * ratio * Double(height)).rounded()))
        let h = min(height, Int((Double(width) / (2 * ratio)).rounded()))
        return WatchMap(width: max(1, w), height: max(1, h), projection: projection)
    }

    /// The braille dot pattern of each character cell (row-major): bit k set for dot k+1 of the
    /// Unicode braille numbering (dots 1-3 and 7 in the left column, 4-6 and 8 in the right).
    /// A dot is land when at least 3 of 9 points spread over its area are land, so coasts and
    /// islands survive a small map.
    public func landPatterns() -> [UInt8] {
        // The screen redraws every second at the same size: keep the last size's patterns.
        let key = LandKey(width: width, height: height, projection: projection)
        if let cached = Self.lastLand.withLock({ $0 }), cached.key == key { return cached.cells }
        let cells = computeLandPatterns()
        Self.lastLand.withLock { $0 = (key, cells) }
        return cells
    }

    struct LandKey: Hashable, Sendable { var width: Int, height: Int, projection: WorldProjection }
    private static let lastLand = Protected<(key: LandKey, cells: [UInt8])?>(nil)

    func computeLandPatterns() -> [UInt8] {
        let dotsW = width * 2, dotsH = height * 4
        let bitFor: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]   // [column][row]
        let spanLon = 360 / Double(dotsW), spanLat = (projection.north - projection.south) / Double(dotsH)
        var cells = [UInt8](repeating: 0, count: width * height)
        for dy in 0..<dotsH {
            for dx in 0..<dotsW {
                let centre = projection.coordinate(column: dx, row: dy, width: dotsW, height: dotsH)
                var land = 0
                for i in -1...1 {
                    for j in -1...1 where LandMask.isLand(lat: centre.lat + Double(i) * spanLat / 3, lon: centre.lon + Double(j) * spanLon / 3) {
                        land += 1
                    }
                }
                if land >= 3 { cells[(dy / 4) * width + dx / 2] |= bitFor[dx % 2][dy % 4] }
            }
        }
        return cells
    }

    /// The marks for these resolvers and how many have no known place.
    public func marks(_ placed: [(resolver: Resolver, status: VerdictStatus)]) -> (marks: [Mark], unplaced: Int) {
        var byCell: [Int: Mark] = [:]
        var unplaced = 0
        for (resolver, status) in placed {
            guard let c = Coordinates.of(resolver),
                  let cell = projection.cell(lat: c.lat, lon: c.lon, width: width, height: height) else {
                unplaced += 1
                continue
            }
            let key = cell.row * width + cell.column
            if var m = byCell[key] {
                m.count += 1
                if VerdictPolicy.severityRank(status) < VerdictPolicy.severityRank(m.status) { m.status = status }
                byCell[key] = m
            } else {
                byCell[key] = Mark(column: cell.column, row: cell.row, status: status, count: 1)
            }
        }
        return (byCell.values.sorted { ($0.row, $0.column) < ($1.row, $1.column) }, unplaced)
    }

    /// The map's lines: braille land (dim when colour is on), marks on top.
    public func render(_ placed: [(resolver: Resolver, status: VerdictStatus)], colour: Bool) -> [String] {
        let land = landPatterns()
        let (marks, _) = self.marks(placed)
        var markAt: [Int: Mark] = [:]
        for m in marks { markAt[m.row * width + m.column] = m }
        var lines: [String] = []
        for row in 0..<height {
            var line = ""
            var landRun = ""
            func flushLand() {
                guard !landRun.isEmpty else { return }
                line += colour ? StatusStyle.paint(landRun, sgr: "2", colour: true) : landRun
                landRun = ""
            }
            for column in 0..<width {
                let k = row * width + column
                if let m = markAt[k] {
                    flushLand()
                    line += colour ? StatusStyle.paint("●", m.status, colour: true) : String(StatusStyle.letter(m.status))
                } else {
                    let p = land[k]
                    landRun.append(p == 0 ? " " : Character(Unicode.Scalar(0x2800 + UInt32(p))!))
                }
            }
            flushLand()
            lines.append(line)
        }
        return lines
    }

    /// "● current 90  ● parked 10  ● stale 30 …  · 3 not on the map": current, then the others
    /// worst first, each mark in its colour (or its letter when colour is off); parts that do
    /// not fit `width` are left off.
    public static func legend(_ placed: [(resolver: Resolver, status: VerdictStatus)], unplaced: Int, colour: Bool,
                              width: Int = .max) -> String {
        var counts: [VerdictStatus: Int] = [:]
        for (_, s) in placed { counts[s, default: 0] += 1 }
        var parts: [(plain: String, painted: String)] = []
        let order = [VerdictStatus.current] + VerdictPolicy.severityOrder.filter { $0 != .current }
        for s in order where counts[s, default: 0] > 0 {
            let mark = colour ? "●" : String(StatusStyle.letter(s))
            let rest = " \(s.rawValue) \(counts[s]!)"
            parts.append((mark + rest, (colour ? StatusStyle.paint(mark, s, colour: true) : mark) + rest))
        }
        if parts.isEmpty { parts.append(("no resolver to show", "no resolver to show")) }
        if unplaced > 0 {
            let t = "· \(unplaced) not on the map (no location)"
            parts.append((t, t))
        }
        var plainCount = 0
        var out: [String] = []
        for p in parts {
            let add = (out.isEmpty ? 0 : 2) + p.plain.count
            if plainCount + add > width { break }
            plainCount += add
            out.append(p.painted)
        }
        return out.joined(separator: "  ")
    }
}
