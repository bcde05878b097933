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
            1.0.0.1 | a | US | b | anycast | a source | extra
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
        #expect(described[5].hasPrefix("mine.txt:7: error: 7 fields separated by '|'; at most 6"))
        #expect(described[6].hasPrefix("mine.txt:8: error: line contains U+001B"))
        #expect(list.errors.count == 4)
    }

    @Test func sourceFieldAndServiceKeys() throws {
        let list = ResolverList.parse("""
            9.9.9.10 | Quad9 unsecured [quad9] | CH | Zurich | anycast | AG Quad9 Unsecured; PPD 30d 99.8%
            9.9.9.9  | Quad9 [quad9]           | CH | Zurich | anycast,filtering
            185.222.222.222 | DNS.SB (xTom) | DE |  | anycast |
            193.17.47.1 | CZ.NIC ODVR | CZ | Prague | anycast | AG CZ.NIC ODVR
            2001:148f:ffff::1 | cz.nic  odvr
            192.0.2.7
            192.0.2.8 | [lab-1] | | | unverified, injected | a note
            """, source: "s.txt")
        #expect(list.problems.isEmpty, "\(list.problems)")
        let r = list.resolvers
        #expect(r.count == 7)
        #expect(r[0].operatorName == "Quad9 unsecured")
        #expect(r[0].service == "quad9")
        #expect(r[0].source == "AG Quad9 Unsecured; PPD 30d 99.8%")
        #expect(r[1].service == "quad9")
        #expect(r[1].source == nil)                      // an old five-field line parses as before
        #expect(r[1].tags == [.anycast, .filtering])
        #expect(r[2].service == "dns-sb-xtom")           // derived from the operator's name
        #expect(r[2].source == nil)                      // an empty SOURCE field is unknown
        #expect(r[3].service == "cz-nic-odvr")
        #expect(r[4].service == "cz-nic-odvr")           // same name, spelt differently: same service
        #expect(r[5].service == "192.0.2.7")             // no operator: the address is its own service
        #expect(r[5].operatorName == nil && r[5].source == nil && r[5].tags.isEmpty)
        #expect(r[6].operatorName == nil)
        #expect(r[6].service == "lab-1")
        #expect(r[6].tags == [.unverified, .injected])
        #expect(r[6].source == "a note")
    }

    @Test func badServiceKeysAreReportedWithFileAndLine() {
        let list = ResolverList.parse("""
            9.9.9.9 | Quad9 [Quad 9!] | CH
            9.9.9.10 | Quad9 [quad9 | CH
            9.9.9.11 | Quad9 quad9] | CH
            9.9.9.12 | Quad9 [] | CH
            9.9.9.13 | Quad9 [-quad9] | CH
            """, source: "k.txt")
        // Every line is kept (a bad key is a warning); the key falls back to the derived one.
        #expect(list.resolvers.count == 5)
        #expect(list.errors.isEmpty)
        let described = list.problems.map(\.description)
        #expect(described.count == 5, "\(described)")
        #expect(described[0] == "k.txt:1: warning: bad service key 'Quad 9!' (1-63 of a-z 0-9 - ., starting with a letter or digit); key derived from the operator name")
        #expect(described[1].hasPrefix("k.txt:2: warning: OPERATOR 'Quad9 [quad9' has '[' but does not end in ']'"))
        #expect(described[2].hasPrefix("k.txt:3: warning: ']' without '[' in OPERATOR 'Quad9 quad9]'"))
        #expect(described[3].hasPrefix("k.txt:4: warning: bad service key ''"))
        #expect(described[4].hasPrefix("k.txt:5: warning: bad service key '-quad9'"))
        #expect(list.resolvers[0].operatorName == "Quad9")
        #expect(list.resolvers[0].service == "quad9")
        #expect(list.resolvers[1].operatorName == "Quad9 [quad9")
        #expect(list.resolvers[1].service == "quad9-quad9")
    }

    @Test func serviceKeyRules() {
        #expect(Resolver.serviceKey(for: "DNS.SB (xTom)") == "dns-sb-xtom")
        #expect(Resolver.serviceKey(for: "  Universität Leipzig ") == "universität-leipzig")
        #expect(Resolver.serviceKey(for: "--") == nil)
        #expect(Resolver.isValidServiceKey("quad9"))
        #expect(Resolver.isValidServiceKey("liquid-ke.2"))
        #expect(!Resolver.isValidServiceKey("Quad9"))
        #expect(!Resolver.isValidServiceKey(".x"))
        #expect(!Resolver.isValidServiceKey(String(repeating: "a", count: 64)))
        #expect(Resolver(address: try! ServerAddress(parsing: "192.0.2.1"), operatorName: "Google Public DNS").service == "google-public-dns")
        #expect(Resolver(address: try! ServerAddress(parsing: "192.0.2.1"), operatorName: "x", service: "k").service == "k")
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

/// The byte-level fast paths for IPv4 (parsing `a.b.c.d[:port]`, printing dotted quads)
/// against the general parser and the C library, on random and awkward spellings.
@Suite("IPv4 fast paths")
struct IPv4FastPathTests {
    static func general(_ text: String) -> ServerAddress? { try? ServerAddress(parsingGenerally: text) }

    @Test func simpleIPv4AgreesWithTheGeneralParser() {
        var rng = SystemRandomNumberGenerator()
        var awkward = ["1.2.3.4", "255.255.255.255", "0.0.0.0", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.4:",
                       "1.2.3.4:0", "1.2.3.4:65535", "1.2.3.4:65536", "1.2.3.4:053", "1.2.3.4:+53", " 1.2.3.4", "1.2.3.4 ",
                       "1..2.3", "1.2.3.4:5:6", "1.2.3.1000", "a.b.c.d", "", "1.2.3.4:99999", "1.2.3.04", "1.2.3.4:5a"]
        let pieces = ["0", "1", "9", "10", "99", "100", "199", "255", "256", "300", "007", "00", ".", ":", "53", "65535", " ", "x"]
        for _ in 0..<5000 {
            awkward.append((0..<Int.random(in: 1...9, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined())
            awkward.append((0..<4).map { _ in String(Int.random(in: 0...255, using: &rng)) }.joined(separator: ".")
                           + (Bool.random(using: &rng) ? ":\(Int.random(in: 1...65535, using: &rng))" : ""))
        }
        var fast = 0
        for text in awkward {
            let parsed = try? ServerAddress(parsing: text)
            if let simple = ServerAddress.simpleIPv4(text) {
                fast += 1
                #expect(simple == Self.general(text), "\(text)")
            }
            #expect(parsed == Self.general(text), "\(text)")
        }
        #expect(fast > 5000)    // the random dotted quads all take the fast path
    }

    @Test func dottedQuadIsWhatTheCLibraryPrints() {
        var rng = SystemRandomNumberGenerator()
        let edge: [UInt32] = [0, 1, 9, 10, 99, 100, 255, 256, 0x0A00_0001, 0x7F00_0001, .max, 0xFF00_FF00, 0x6464_6464]
        for v in edge + (0..<20000).map({ _ in UInt32.random(in: 0...UInt32.max, using: &rng) }) {
            #expect(IPAddress.v4(v).description == IPAddress.v4(v).cLibraryDescription)
        }
    }

    @Test func lowercasingOnlyWhenNeeded() {
        for s in ["", "ns1.example.", "NS1.Example.", "bücher.example.", "BÜCHER.", "a-b_c.", "ZZ"] {
            #expect(s.lowercasedIfNeeded == s.lowercased())
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

    /// The header's comment block, which documents the format, the tags and the source keys.
    static var header: [String] {
        BundledResolvers.text.split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { $0.hasPrefix("#") || $0.isEmpty }.map(String.init)
    }

    /// Names documented in the header as `#<indent>NAME  explanation` right under `heading`.
    static func documented(under heading: String, indent: Int) -> Set<String> {
        let lines = header
        guard let start = lines.firstIndex(where: { $0.contains(heading) }) else { return [] }
        var names: Set<String> = []
        let prefix = "#" + String(repeating: " ", count: indent)
        for line in lines[(start + 1)...] {
            guard line.hasPrefix(prefix) else { break }
            let rest = line.dropFirst(prefix.count)
            if rest.first == " " { continue }                  // a continuation line
            guard let word = rest.split(separator: " ").first else { break }
            names.insert(String(word))
        }
        return names
    }

    @Test func everyTagIsDocumentedAndEveryShippedTagIsADocumentedOne() throws {
        let documented = Self.documented(under: "TAGS      comma-separated, from this set only", indent: 15)
        #expect(documented == Set(Resolver.Tag.allCases.map(\.rawValue)), "header documents \(documented.sorted())")
        let list = ResolverList.bundled
        #expect(!list.problems.contains { $0.message.contains("unknown tag") })
        for r in list.resolvers {
            #expect(Set(r.tags.map(\.rawValue)).isSubset(of: documented), "\(r.origin)")
        }
        // The README documents the same set.
        var root = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        root.removeLast(3)
        let readme = try FileText.read(root.joined(separator: "/") + "/README.md")
        for tag in Resolver.Tag.allCases { #expect(readme.contains("`\(tag.rawValue)`"), "README lacks \(tag)") }
    }

    @Test func everyEntryCarriesAProvenanceInDocumentedKeys() {
        let keys = Self.documented(under: "Source keys", indent: 3)
        #expect(keys == ["AG", "PPD", "GD", "DC", "G-ECS", "AGDNS"], "\(keys.sorted())")
        let current: Set<String> = ["AG", "PPD", "GD"]
        for r in ResolverList.bundled.resolvers {
            let source = r.source ?? ""
            #expect(!source.isEmpty, "\(r.origin) \(r.address) has no SOURCE")
            let words = Set(source.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "-") }).map(String.init))
            #expect(!words.isDisjoint(with: keys) || source.hasPrefix("in no current source"),
                    "\(r.origin) \(r.address): '\(source)' names no documented source")
            // `unverified` means exactly: no current source lists it.
            #expect(r.tags.contains(.unverified) == words.isDisjoint(with: current),
                    "\(r.origin) \(r.address): unverified must match 'in no current source' ('\(source)')")
        }
    }

    @Test func correctionsFromIssue20() throws {
        let list = ResolverList.bundled
        func entry(_ a: String) throws -> Resolver {
            try #require(list.resolvers.first { $0.address.ip.description == a }, "\(a) missing")
        }
        for a in ["8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844"] {
            #expect(try entry(a).tags.contains(.ecs), "\(a)")                      // Google sends ECS
        }
        for a in ["208.67.222.222", "208.67.220.220", "2620:119:35::35"] {
            #expect(try entry(a).tags.isSuperset(of: [.filtering, .ecs]), "\(a)")  // OpenDNS Standard
        }
        for a in ["149.112.121.10", "149.112.122.10", "2620:10a:80bb::10"] {
            #expect(try !entry(a).tags.contains(.filtering), "\(a)")             // CIRA Private: resolution only
        }
        for a in ["114.114.114.114", "114.114.115.115"] {
            let r = try entry(a)
            #expect(r.tags.contains(.filtering) && r.tags.contains(.anycast) && !r.tags.contains(.unicast), "\(a)")
        }
        #expect(try !entry("117.50.10.10").tags.contains(.filtering))          // OneDNS Pure Edition
        #expect(try entry("195.46.39.39").countryCode != "RU")                    // SafeDNS, not SkyDNS
        // Every resolver in China may get answers injected on the path.
        for r in list.resolvers where r.countryCode == "CN" { #expect(r.tags.contains(.injected), "\(r.address)") }

        // Removed: below the bar, customers' open resolvers, the renamed Vercara service.
        let removed = ["8.26.56.26", "8.20.247.20", "156.154.70.1", "156.154.71.1", "2610:a1:1018::1", "64.6.64.6",
                       "4.2.2.1", "4.2.2.2", "209.244.0.3", "193.58.251.251", "119.29.29.29", "182.93.84.123",
                       "194.145.240.6", "200.221.11.100", "45.65.225.196", "200.2.116.245", "181.49.39.14",
                       "195.246.42.210", "181.143.1.118", "195.243.214.4", "194.172.160.4", "87.213.100.113",
                       "200.248.178.54", "83.145.86.7", "204.12.225.227"]
        let shipped = Set(list.resolvers.map(\.address.ip.description))
        #expect(shipped.isDisjoint(with: removed), "\(shipped.intersection(removed))")
        // ... each commented out under a dated reason, so nobody re-adds it unknowingly.
        let lines = BundledResolvers.text.split(separator: "\n").map(String.init)
        for a in removed {
            guard let i = lines.firstIndex(where: { $0.hasPrefix("#   \(a) ") }) else {
                Issue.record("\(a) is not kept as a commented-out entry"); continue
            }
            let reason = lines[..<i].last { !$0.hasPrefix("#   ") } ?? ""
            #expect(reason.hasPrefix("# REMOVED 2026-11-29: ") && reason.count > 40, "\(a): \(reason)")
        }
    }

    @Test func servicesGroupTheAddressesOfOneService() {
        let list = ResolverList.bundled
        func services(_ op: String) -> Set<String> {
            Set(list.resolvers.filter { ($0.operatorName ?? "").hasPrefix(op) }.map(\.service))
        }
        #expect(services("Google") == ["google"])
        #expect(list.resolvers.filter { $0.service == "google" }.count == 4)
        #expect(services("Quad9") == ["quad9"])
        #expect(list.resolvers.filter { $0.service == "quad9" }.count == 6)
        #expect(services("Cloudflare") == ["cloudflare"])
        #expect(services("Cisco OpenDNS") == ["opendns"])
        let anycast = list.resolvers.filter { $0.tags.contains(.anycast) }
        #expect(Set(anycast.map(\.service)).count < anycast.count / 2)
        // Different operators never share a key by accident.
        var operatorsByService: [String: Set<String>] = [:]
        for r in list.resolvers {
            let base = (r.operatorName ?? "").split(separator: " ").first.map(String.init) ?? ""
            operatorsByService[r.service, default: []].insert(base)
        }
        for (service, ops) in operatorsByService { #expect(ops.count == 1, "\(service): \(ops)") }
    }

    @Test func coverageAddedWhereItWasMissing() {
        let list = ResolverList.bundled
        let countries = Set(list.resolvers.compactMap(\.countryCode))
        #expect(countries.contains("JP"))
        #expect(!countries.isDisjoint(with: ["AE", "SA", "QA", "KW", "BH", "OM"]))                  // the Gulf
        #expect(!countries.isDisjoint(with: ["BF", "CV", "SN", "NG", "CI", "ML", "CM", "CD", "GA"]))  // West/Central Africa
        #expect(!countries.isDisjoint(with: ["GT", "CR", "PA", "HN", "SV", "NI", "TT", "DO", "JM"]))  // Central America/Caribbean
    }
}
