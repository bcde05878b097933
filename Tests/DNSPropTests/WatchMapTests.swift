import Testing
@testable import DNSProp

/// The watch screen's world map: land from the Natural Earth mask in braille, resolvers as
/// marks at their places, coloured by status or lettered without colour.
@Suite("Watch map")
struct WatchMapTests {
    static func resolver(_ host: String, _ country: String?, lat: Double? = nil, lon: Double? = nil) -> Resolver {
        var r = Resolver(address: try! ServerAddress(parsing: host), countryCode: country)
        if let lat, let lon {
            var v = Vantage(network: "globalping", country: country)
            v.latitude = lat; v.longitude = lon
            r.vantage = v
        }
        return r
    }

    /// A fixed map of 72×30 characters (144×120 dots): 5° per character across, 142/30° down.
    let map = WatchMap(width: 72, height: 30)

    @Test func marksFallInTheExpectedCells() throws {
        let placed: [(resolver: Resolver, status: VerdictStatus)] = [
            (Self.resolver("192.0.2.1", "FR"), .current),
            (Self.resolver("192.0.2.2", "FR"), .stale),                               // same cell: the worse shows
            (Self.resolver("192.0.2.3", "AU", lat: -33.87, lon: 151.21), .parked),    // a probe at Sydney
            (Self.resolver("192.0.2.4", "US"), .timeout),
            (Self.resolver("192.0.2.5", nil), .current),                              // nowhere
            (Self.resolver("192.0.2.6", "ZZ"), .current),                             // unknown code
        ]
        let (marks, unplaced) = map.marks(placed)
        #expect(unplaced == 2)
        func cell(_ lat: Double, _ lon: Double) -> [Int] {
            // column = (lon + 180) / 5, row = (84 - lat) / (142 / 30)
            [Int((lon + 180) / 5), Int((84 - lat) / (142.0 / 30))]
        }
        let fr = try #require(Coordinates.ofCountry("FR")), us = try #require(Coordinates.ofCountry("US"))
        let expected: [[Int]: (VerdictStatus, Int)] = [
            cell(fr.lat, fr.lon): (.stale, 2), cell(-33.87, 151.21): (.parked, 1), cell(us.lat, us.lon): (.timeout, 1),
        ]
        #expect(marks.count == 3)
        for m in marks {
            let e = try #require(expected[[m.column, m.row]], "unexpected mark at \(m.column),\(m.row)")
            #expect(m.status == e.0 && m.count == e.1)
        }
        // Sydney: column (151.21 + 180) / 5 = 66, row (84 + 33.87) / 4.733 = 24.
        #expect(marks.contains { $0.column == 66 && $0.row == 24 && $0.status == .parked })
    }

    @Test func landAndSeaCells() {
        let cells = map.landPatterns()
        func pattern(_ lat: Double, _ lon: Double) -> UInt8 {
            let c = WorldProjection.standard.cell(lat: lat, lon: lon, width: 72, height: 30)!
            return cells[c.row * 72 + c.column]
        }
        #expect(pattern(48.85, 2.35) != 0)       // Paris
        #expect(pattern(-15.8, -47.9) == 0xFF)  // inland Brazil: all eight dots
        #expect(pattern(0, -30) == 0)            // mid-Atlantic
        #expect(pattern(30, -150) == 0)          // North Pacific
        let lines = map.render([], colour: false)
        #expect(lines.count == 30)
        #expect(lines.allSatisfy { $0.count == 72 })
        #expect(lines.joined().unicodeScalars.allSatisfy { $0 == " " || (0x2801...0x28FF).contains($0.value) })
    }

    @Test func colourOffMeansLettersAndNoEscapes() throws {
        let placed: [(resolver: Resolver, status: VerdictStatus)] = [
            (Self.resolver("192.0.2.1", "BR"), .current), (Self.resolver("192.0.2.2", "JP"), .stale),
            (Self.resolver("192.0.2.3", "ZA"), .parked), (Self.resolver("192.0.2.4", "IN"), .servfail),
        ]
        let plain = map.render(placed, colour: false)
        let text = plain.joined(separator: "\n")
        #expect(!text.contains("\u{1B}"))
        for (code, letter) in [("BR", "C"), ("JP", "S"), ("ZA", "P"), ("IN", "F")] {
            let p = try #require(Coordinates.ofCountry(code))
            let c = try #require(WorldProjection.standard.cell(lat: p.lat, lon: p.lon, width: 72, height: 30))
            #expect(Array(plain[c.row])[c.column] == Character(letter), "\(code)")
        }
        let coloured = map.render(placed, colour: true).joined(separator: "\n")
        #expect(coloured.contains(StatusStyle.paint("●", .stale, colour: true)))
        #expect(coloured.contains(StatusStyle.paint("●", .current, colour: true)))
        #expect(!coloured.contains("S") && !coloured.contains("C"))
        let legend = WatchMap.legend(placed, unplaced: 1, colour: false)
        #expect(legend == "C current 1  P parked 1  S stale 1  F servfail 1  · 1 not on the map (no location)")
        #expect(WatchMap.legend(placed, unplaced: 0, colour: false, width: 23) == "C current 1  P parked 1")
    }

    @Test func fittingKeepsTheWorldsProportions() {
        let wide = WatchMap.fitting(width: 200, height: 30)
        #expect(wide.height == 30 && wide.width < 200 && wide.width > 140)
        let tall = WatchMap.fitting(width: 90, height: 40)
        #expect(tall.width == 90 && tall.height < 40 && tall.height > 14)
    }

    @Test(arguments: [(60, 20), (90, 28), (200, 60)])
    func screenShowsTheMapAndStaysInBounds(_ size: (Int, Int)) {
        let state = WatchViewTests.world()
        var view = WatchView()
        _ = view.handle(.character("m"), page: 10)
        #expect(view.showMap)
        let screen = WatchScreen(width: size.0, height: size.1, colour: false)
        let lines = screen.render(state, names: [], now: 1010, nextRound: nil, interval: 30, view: view)
        #expect(lines.count <= size.1)
        for line in lines { #expect(line.count <= size.0, "\(line)") }
        let text = lines.joined(separator: "\n")
        #expect(text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })   // land
        #expect(text.contains("C current 90") && text.contains("S stale 30") && text.contains("P parked 10") && text.contains("T timeout 20"))
        // The list is under the map on a tall screen, and `m` brings it back on a small one.
        #expect(text.contains("STATUS") == (size.1 >= 40))
        _ = view.handle(.character("m"), page: 10)
        #expect(screen.render(state, names: [], now: 1010, nextRound: nil, interval: 30, view: view).joined().contains("STATUS"))
    }

    @Test func mapFollowsTheFilter() {
        let state = WatchViewTests.world()
        var view = WatchView()
        view.showMap = true
        view.show = .failing
        let lines = WatchScreen(width: 90, height: 28, colour: false).render(state, names: [], now: 1010, nextRound: nil, interval: 30, view: view)
        let text = lines.joined(separator: "\n")
        #expect(text.contains("T timeout 20") && !text.contains("current 90"))
    }

    @Test func filterTypedOnTheMapNarrowsItsMarks() throws {
        let state = WatchViewTests.world()
        var view = WatchView()
        _ = view.handle(.character("m"), page: 10)
        for c in "/AU" { _ = view.handle(.character(c), page: 10) }
        let screen = WatchScreen(width: 90, height: 28, colour: false)
        let lines = screen.render(state, names: [], now: 1010, nextRound: nil, interval: 30, view: view)
        let footer = try #require(lines.last)
        #expect(footer.contains("map of 15 resolvers") && footer.contains("filter: AU▏"), "\(footer)")
        // Only Australia is marked: one cell, at its point, with the worst status there.
        let au = try #require(Coordinates.ofCountry("AU"))
        let map = WatchMap.fitting(width: 90, height: 28 - 3 - 1 - 1)   // title, summary, blank; legend; footer
        let cell = try #require(map.projection.cell(lat: au.lat, lon: au.lon, width: map.width, height: map.height))
        let marks = lines.enumerated().flatMap { (row, line) in
            Array(line).enumerated().filter { "CSPNDFRTE".contains($0.element) && row >= 3 && row < 3 + map.height }.map { [row - 3, $0.offset] }
        }
        #expect(marks == [[cell.row, cell.column + (90 - map.width) / 2]], "\(lines.joined(separator: "\n"))")
    }
}
