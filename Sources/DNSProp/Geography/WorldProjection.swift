/// Equirectangular projection of the world onto a rectangle, with the poles cut off (nobody
/// runs a resolver north of 84°N or in Antarctica, and the cut leaves more rows for the rest).
/// Used by the terminal map (WatchMap) and meant for any other map (an SVG's viewBox).
public struct WorldProjection: Sendable, Hashable {
    /// The latitudes of the top and bottom edges (north > south).
    public var north: Double
    public var south: Double

    /// The default cut: 84°N to 58°S shows every inhabited land but Antarctica.
    public static let standard = WorldProjection(north: 84, south: -58)

    public init(north: Double = 84, south: Double = -58) {
        precondition(north > south && north <= 90 && south >= -90, "WorldProjection needs 90 >= north > south >= -90")
        self.north = north
        self.south = south
    }

    /// Where (lat, lon) falls as fractions of the width and height: x from 0 (180°W) to 1
    /// (180°E), y from 0 (north edge) to 1 (south edge). Nil when the point is outside the
    /// cut or not finite. Longitudes are wrapped into [-180, 180).
    public func unitPoint(lat: Double, lon: Double) -> (x: Double, y: Double)? {
        guard lat.isFinite, lon.isFinite, lat <= north, lat >= south else { return nil }
        var wrapped = (lon + 180).truncatingRemainder(dividingBy: 360)
        if wrapped < 0 { wrapped += 360 }
        return (wrapped / 360, (north - lat) / (north - south))
    }

    /// The cell of a `width`×`height` grid that (lat, lon) falls in, or nil outside the cut.
    public func cell(lat: Double, lon: Double, width: Int, height: Int) -> (column: Int, row: Int)? {
        guard width > 0, height > 0, let p = unitPoint(lat: lat, lon: lon) else { return nil }
        return (min(width - 1, Int(p.x * Double(width))), min(height - 1, Int(p.y * Double(height))))
    }

    /// The coordinates at the centre of cell (column, row) of a `width`×`height` grid.
    public func coordinate(column: Int, row: Int, width: Int, height: Int) -> GeoCoordinate {
        let lon = -180 + (Double(column) + 0.5) * 360 / Double(width)
        let lat = north - (Double(row) + 0.5) * (north - south) / Double(height)
        return GeoCoordinate(lat: lat, lon: lon, precision: .exact)
    }
}
