import Testing
@testable import DNSProp

/// The land mask and country points reduced from Natural Earth (Scripts/make-land-mask),
/// and the projection the maps draw with.
@Suite("Geography")
struct GeographyTests {
    @Test func knownPlacesAreLandOrSea() {
        let land: [(String, Double, Double)] = [
            ("Paris", 48.85, 2.35), ("Kansas", 38.5, -98.0), ("Brasília", -15.8, -47.9), ("Nairobi", -1.29, 36.82),
            ("Moscow", 55.75, 37.62), ("Beijing", 39.9, 116.4), ("Alice Springs", -23.7, 133.9), ("Tokyo", 35.7, 139.7),
            ("Greenland", 72.0, -40.0), ("Madagascar", -19.0, 46.7), ("Sri Lanka", 7.9, 80.7),
        ]
        let sea: [(String, Double, Double)] = [
            ("mid-Atlantic", 0, -30), ("North Pacific", 30, -150), ("Indian Ocean", -20, 80), ("Mediterranean", 35, 18),
            ("Tasman Sea", -38, 160), ("Gulf of Mexico", 25, -90), ("South Atlantic", -40, -20),
        ]
        for (name, lat, lon) in land { #expect(LandMask.isLand(lat: lat, lon: lon), "\(name) should be land") }
        for (name, lat, lon) in sea { #expect(!LandMask.isLand(lat: lat, lon: lon), "\(name) should be sea") }
    }

    @Test func maskShapeAndEdges() {
        #expect(LandMask.bits.count == 720 * 360 / 8)
        // About 29% of the Earth's surface is land; an equirectangular grid over-counts the
        // poles (Antarctica fills whole rows), so the cell share is higher, but far from all or nothing.
        let land = LandMask.bits.reduce(0) { $0 + $1.nonzeroBitCount }
        #expect(land > 720 * 360 / 5 && land < 720 * 360 / 2)
        #expect(LandMask.isLand(lat: -89.9, lon: 0))          // Antarctica
        #expect(!LandMask.isLand(lat: 89.9, lon: 0))          // the North Pole is sea ice
        #expect(LandMask.isLand(lat: 48.85, lon: 2.35 + 360))   // longitudes wrap
        #expect(!LandMask.isLand(lat: .nan, lon: 0))
        #expect(!LandMask.isLand(column: -1, row: 0) && !LandMask.isLand(column: 720, row: 0))
    }

    @Test func base64DecodesTheStandardAlphabet() {
        #expect(Base64.decode("TWFu") == Array("Man".utf8))
        #expect(Base64.decode("TWE=\n") == Array("Ma".utf8))
        #expect(Base64.decode("T Q==") == Array("M".utf8))
        #expect(Base64.decode("+/8A") == [0xFB, 0xFF, 0x00])
    }

    @Test func countryPointsLieOnTheirLand() throws {
        for code in ["FR", "US", "DE", "BR", "AU", "ZA", "JP", "IN", "CH", "KE", "AR"] {
            let p = try #require(Coordinates.ofCountry(code), "\(code)")
            #expect(p.precision == .country)
            #expect(LandMask.isLand(lat: p.lat, lon: p.lon), "\(code)'s point should be on land")
        }
        let fr = try #require(Coordinates.ofCountry("fr"))
        #expect(abs(fr.lat - 46.7) < 1.5 && abs(fr.lon - 2.5) < 1.5)   // metropolitan France, not Guiana
        let sg = try #require(Coordinates.ofCountry("SG"))
        #expect(abs(sg.lat - 1.35) < 0.5 && abs(sg.lon - 103.8) < 0.5)
        let eu = try #require(Coordinates.ofCountry("EU"))
        #expect(eu.lat > 40 && eu.lat < 55 && eu.lon > 0 && eu.lon < 25)
        #expect(Coordinates.ofCountry("ZZ") == nil)
        #expect(Coordinates.countryCodes.count > 200)
    }

    @Test func everyCountryOfTheBundledListHasAPoint() throws {
        let missing = ResolverList.bundled.resolvers.compactMap(\.countryCode).filter { Coordinates.ofCountry($0) == nil }
        #expect(missing.isEmpty, "no point for \(Set(missing).sorted())")
    }

    @Test func resolverCoordinates() throws {
        var r = Resolver(address: try ServerAddress(parsing: "192.0.2.1"), countryCode: "DE")
        #expect(Coordinates.of(r) == Coordinates.ofCountry("DE"))
        var v = Vantage(network: "globalping", country: "DE", city: "Berlin")
        r.vantage = v
        #expect(Coordinates.of(r)?.precision == .country)
        v.latitude = 52.52; v.longitude = 13.40
        r.vantage = v
        #expect(Coordinates.of(r) == GeoCoordinate(lat: 52.52, lon: 13.40, precision: .exact))
        v.latitude = 200                     // out of range: fall back to the country
        r.vantage = v
        #expect(Coordinates.of(r)?.precision == .country)
        #expect(Coordinates.of(Resolver(address: try ServerAddress(parsing: "192.0.2.2"))) == nil)
    }

    @Test func projectionCutsThePolesAndMapsCells() throws {
        let p = WorldProjection.standard
        #expect(p.unitPoint(lat: 85, lon: 0) == nil)
        #expect(p.unitPoint(lat: -60, lon: 0) == nil)
        let c = try #require(p.unitPoint(lat: 84, lon: -180))
        #expect(c.x == 0 && c.y == 0)
        #expect(p.cell(lat: -58, lon: 179.99, width: 100, height: 50).map { [$0.column, $0.row] } == [99, 49])
        #expect(p.cell(lat: 13, lon: 0, width: 100, height: 50).map { [$0.column, $0.row] } == [50, 25])
        let centre = p.coordinate(column: 50, row: 25, width: 100, height: 50)
        #expect(p.cell(lat: centre.lat, lon: centre.lon, width: 100, height: 50).map { [$0.column, $0.row] } == [50, 25])
    }
}
