/// A point on the Earth in degrees, and how much it is worth.
public struct GeoCoordinate: Sendable, Hashable {
    public enum Precision: String, Sendable, Hashable {
        /// Given for the place itself (a Globalping probe's own coordinates).
        case exact
        /// Only the country is known: a point inside it (Natural Earth's label point).
        case country
    }
    public var lat: Double
    public var lon: Double
    public var precision: Precision

    public init(lat: Double, lon: Double, precision: Precision) {
        self.lat = lat; self.lon = lon; self.precision = precision
    }
}

/// Where a resolver is, for maps: a probe's own coordinates when it has them, otherwise a
/// point inside its country (Natural Earth label points, CountryCentroidData.swift), otherwise
/// nothing. Addresses are never geolocated: the list's country is all that is claimed.
public enum Coordinates {
    public static func of(_ resolver: Resolver) -> GeoCoordinate? {
        if let v = resolver.vantage, let lat = v.latitude, let lon = v.longitude,
           lat.isFinite, lon.isFinite, abs(lat) <= 90, abs(lon) <= 180 {
            return GeoCoordinate(lat: lat, lon: lon, precision: .exact)
        }
        if let code = resolver.countryCode ?? resolver.vantage?.country { return ofCountry(code) }
        return nil
    }

    /// A point inside the country with this ISO 3166-1 alpha-2 code (any case; `EU` too).
    public static func ofCountry(_ code: String) -> GeoCoordinate? {
        guard let p = countries[code.uppercased()] else { return nil }
        return GeoCoordinate(lat: p.lat, lon: p.lon, precision: .country)
    }

    /// Every code with a point, for callers that draw all countries.
    public static var countryCodes: [String] { countries.keys.sorted() }

    private static let countries: [String: (lat: Double, lon: Double)] = {
        var table: [String: (lat: Double, lon: Double)] = [:]
        for line in CountryCentroidData.table.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 3, let lat = Double(f[1]), let lon = Double(f[2]) else {
                preconditionFailure("CountryCentroidData is corrupt: run Scripts/make-land-mask")
            }
            table[String(f[0])] = (lat, lon)
        }
        return table
    }()
}
