import DNSProp

/// The status page's map data: the land mask and resolver coordinates of `Sources/DNSProp/Geography`
/// (Natural Earth 10m countries, public domain; a probe's own coordinates, else its country's point).
public enum StatusPageMap {
    public static let data = WorldMapSVG.Data(
        columns: LandMask.columns, rows: LandMask.rows,
        isLand: { LandMask.isLand(column: $0, row: $1) },
        locate: { Coordinates.of($0).map { (lat: $0.lat, lon: $0.lon) } })
}
