import Testing
@testable import DNSProp

@Suite("Resolver list")
struct ResolverListTests {
    @Test func addressForms() throws {
        #expect(try ServerAddress(parsing: "9.9.9.9") == ServerAddress(ip: IPAddress("9.9.9.9")!, port: 53))
        #expect(try ServerAddress(parsing: "127.0.0.1:5353").port == 5353)
        #expect(try ServerAddress(parsing: "2620:fe::fe").description == "2620:fe::fe")
        #expect(try ServerAddress(parsing: "[::1]:5353").description == "[::1]:5353")
        #expect(try ServerAddress(parsing: "[2620:00fe:0::00fe]").description == "2620:fe::fe")
        for bad in ["", "1.2.3", "1.2.3.256", "127.1", "::1:5353x", "[::1", "[::1]5353", "1.2.3.4:0",
                    "1.2.3.4:65536", "1.2.3.4:+53", "[1.2.3.4]:53", "example.com", "1.2.3.4:dns"] {
            #expect(throws: AddressError.self, "\(bad)") { try ServerAddress(parsing: bad) }
        }
    }

    @Test func bareAddressesCommentsAndBlankLines() {
        let list = ResolverList.parse("""
            # a comment

            9.9.9.9
            2620:fe::fe   # trailing comment
            127.0.0.1:5353
            [::1]:5353
            """, source: "t.txt")
        #expect(list.problems.isEmpty)
        #expect(list.resolvers.map(\.address.description) == ["9.9.9.9", "2620:fe::fe", "127.0.0.1:5353", "[::1]:5353"])
        #expect(list.resolvers[0].origin == "t.txt:3")
    }

    @Test func fullLines() throws {
        let list = ResolverList.parse("1.1.1.1 | Cloudflare | us | San Francisco | anycast, filtering\r\n", source: "f")
        let r = try #require(list.resolvers.first)
        #expect(list.problems.isEmpty)
        #expect(r.operatorName == "Cloudflare")
        #expect(r.countryCode == "US")
        #expect(r.continent == .northAmerica)
        #expect(r.location == "San Francisco")
        #expect(r.tags == [.anycast, .filtering])
    }

    @Test func problemsNameFileLineAndWhatIsWrongAndTheRestIsKept() {
        let list = ResolverList.parse("""
            9.9.9.9
            9.9.9.300 | Bad
            1.1.1.1 Cloudflare
            8.8.8.8 | Google | XX
            8.8.4.4 | Google | US | | anycast, shiny
            9.9.9.9 | duplicate
            1.0.0.1 | a | US | b | anycast | extra
            4.4.4.4 | ctl\u{1B}[2J
            """, source: "mine.txt")
        #expect(list.resolvers.map(\.address.description) == ["9.9.9.9", "8.8.8.8", "8.8.4.4"])
        let described = list.problems.map(\.description)
        #expect(described.count == 7)
        #expect(described[0].hasPrefix("mine.txt:2: error: bad address '9.9.9.300'"))
        #expect(described[1].hasPrefix("mine.txt:3: error:") && described[1].contains("separate fields with '|'"))
        #expect(described[2] == "mine.txt:4: warning: 'XX' is not an ISO 3166-1 alpha-2 country code; country left unknown")
        #expect(described[3].hasPrefix("mine.txt:5: warning: unknown tag 'shiny'"))
        #expect(described[4] == "mine.txt:6: warning: 9.9.9.9 is listed again (first on line 1); this line is skipped")
        #expect(described[5].hasPrefix("mine.txt:7: error: 6 fields"))
        #expect(described[6].hasPrefix("mine.txt:8: error: line contains U+001B"))
        #expect(list.errors.count == 4)
    }

    @Test func invalidUTF8IsReportedNotSwallowed() {
        let text = String(decoding: Array("8.8.8.8 | Goo".utf8) + [0xFF, 0xFE] + Array("gle\n1.1.1.1\n".utf8), as: UTF8.self)
        let list = ResolverList.parse(text, source: "u")
        #expect(list.resolvers.map(\.address.description) == ["1.1.1.1"])
        #expect(list.problems.first?.description == "u:1: error: line is not valid UTF-8; line skipped")
    }

    @Test func duplicateDetectionUsesCanonicalForm() {
        let list = ResolverList.parse("2620:fe::fe\n2620:00fe:0:0::fe\n[2620:fe::fe]:53\n[2620:fe::fe]:5353\n", source: "d")
        #expect(list.resolvers.count == 2)
        #expect(list.problems.count == 2)
    }

    @Test func parserSurvivesArbitraryBytes() {
        var rng = SplitMix64(seed: 7)
        let alphabet = Array("0123456789abcdef.:[]|#, \n\t\r".utf8) + [0, 0x1B, 0xC3, 0xFF]
        for _ in 0..<3_000 {
            let bytes = (0..<Int(rng.next() % 200)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let list = ResolverList.parse(String(decoding: bytes, as: UTF8.self), source: "fuzz")
            for p in list.problems { #expect(p.line >= 1) }
            for r in list.resolvers { #expect(r.address.port > 0) }
        }
    }
}

@Suite("Shipped resolver list")
struct ShippedResolverListTests {
    static var topLevelPath: String {
        // Tests/DNSPropTests/ThisFile.swift → repository root
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/resolvers.txt"
    }

    @Test func builtInCopyIsIdenticalToTopLevelFile() throws {
        let onDisk = try FileText.read(Self.topLevelPath)
        #expect(BundledResolvers.text == onDisk, "run Scripts/sync-data after editing resolvers.txt")
    }

    @Test func listIsCleanAndWorldwide() {
        let list = ResolverList.bundled
        #expect(list.problems.isEmpty, "\(list.problems)")
        #expect(list.resolvers.count >= 100)
        let countries = Set(list.resolvers.compactMap(\.countryCode)).subtracting(["EU"])
        #expect(countries.count >= 40)
        let continents = Set(list.resolvers.compactMap(\.continent))
        #expect(continents.isSuperset(of: [.africa, .asia, .europe, .northAmerica, .southAmerica, .oceania]))
        #expect(list.resolvers.contains { $0.address.ip.isIPv6 })
        #expect(list.resolvers.allSatisfy { $0.operatorName != nil && $0.countryCode != nil })
        // Retired services must not be shipped.
        let retired = ["199.85.126.10", "199.85.127.10", "84.200.69.80", "84.200.70.40", "37.235.1.174",
                       "37.235.1.177", "176.103.130.130", "213.73.91.35", "80.80.80.80", "80.80.81.81"]
        let shipped = Set(list.resolvers.map(\.address.ip.description))
        #expect(shipped.isDisjoint(with: retired))
    }
}
