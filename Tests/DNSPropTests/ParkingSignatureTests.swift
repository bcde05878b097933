import Testing
@testable import DNSProp

@Suite("Parking signatures")
struct ParkingSignatureTests {
    let sigs = ParkingSignatures.bundled

    @Test func bundledSetLoadsAndMatchesFileOnDisk() throws {
        #expect(sigs.providers.count >= 80)
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        let onDisk = try FileText.read(parts.joined(separator: "/") + "/data/parking-signatures.json")
        #expect(BundledParkingSignatures.text == onDisk, "run Scripts/sync-data after editing data/parking-signatures.json")
    }

    @Test func registrarExpiryAndParkingIndicators() {
        func m(_ type: RecordType, _ data: String...) -> ParkingSignatures.Match? {
            sigs.match([ResourceRecord(owner: "victim.com.", type: type, ttl: 1, rdataFields: data)])
        }
        #expect(m(.ns, "ns1.pendingrenewaldeletion.com.")?.provider == "Network Solutions expiry NS")
        #expect(m(.ns, "NS2.PendingRenewalDeletion.COM.")?.kind == "registrar-expiry")
        #expect(m(.ns, "ns1.renewyourname.net.")?.provider == "Tucows / OpenSRS expiry NS")
        #expect(m(.ns, "expired-domain-ns1.fabulous.com.") != nil)
        #expect(m(.a, "208.91.197.46")?.provider == "Skenzo / Confluence Networks")
        #expect(m(.a, "91.195.240.5")?.provider == "Sedo")
        #expect(m(.cname, "overdue.aliyun.com.") != nil)
        #expect(m(.soa, "ns1.sedoparking.com.", "hostmaster.sedo.de.", "1", "2", "3", "4", "5")?.provider == "Sedo")
    }

    @Test func recordsNoSignatureCanMatchAreSkippedNotFatal() {
        let mx = ResourceRecord(owner: "victim.com.", type: .mx, ttl: 1, rdataFields: ["10", "mx.sedoparking.com."])
        let parkedA = ResourceRecord(owner: "victim.com.", type: .a, ttl: 1, rdataFields: ["91.195.240.5"])
        let badA = ResourceRecord(owner: "victim.com.", type: .a, ttl: 1, rdataFields: ["not-an-address"])
        #expect(sigs.match([mx]) == nil)
        #expect(sigs.match(mx) == nil)
        #expect(sigs.match([mx, badA, parkedA])?.provider == "Sedo")
        #expect(sigs.match(parkedA) == sigs.match([parkedA]))
        #expect(sigs.match([badA]) == nil)
    }

    @Test func falsePositiveTrapsDoNotMatch() {
        func m(_ type: RecordType, _ data: String) -> ParkingSignatures.Match? {
            sigs.match([ResourceRecord(owner: "victim.com.", type: type, ttl: 1, rdataFields: [data])])
        }
        for ns in ["ns01.domaincontrol.com.", "dns1.registrar-servers.com.", "ns1.markmonitor.com.", "ns1.name.com.",
                   "ns1.one.com.", "ns1.dns-parking.com.", "ns1.example.net.", "pendingrenewaldeletion.com.evil.net."] {
            #expect(m(.ns, ns) == nil, "\(ns)")
        }
        for a in ["13.225.34.10", "52.84.174.1", "104.26.6.37", "172.67.70.191", "75.2.18.233", "192.0.2.10"] {
            #expect(m(.a, a) == nil, "\(a)")
        }
        // A registrar's default NS that is also its parking NS needs a second indicator.
        #expect(m(.ns, "ns1.sav.com.") == nil)
        let two = sigs.match([ResourceRecord(owner: "v.", type: .ns, ttl: 1, rdataFields: ["ns1.sav.com."]),
                              ResourceRecord(owner: "v.", type: .ns, ttl: 1, rdataFields: ["ns2.sav.com."])])
        #expect(two?.provider == "Sav")
    }

    @Test func patterns() {
        let p = ParkingSignatures.NamePattern("ns%.parkingcrew.net")
        #expect(p.matches("ns1.parkingcrew.net."))
        #expect(p.matches("NS12.ParkingCrew.net"))
        #expect(!p.matches("ns1.parkingcrew.net.evil."))
        #expect(!p.matches("xns1.parkingcrew.net."))
        let q = ParkingSignatures.NamePattern("%.a%b.com")
        #expect(q.matches("x.ab.com."))
        #expect(q.matches("x.aZZb.com."))
        #expect(!q.matches("ab.com."))
    }

    @Test func userFileParsesAndReportsLineNumbers() throws {
        let s = try ParkingSignatures.parseUserFile("""
            # my parking
            NS  %.myparking.example | My Parking
            A   198.51.100.0/24      | My Parking
            AAAA 2001:db8::/32
            CNAME park.example.net   | Other
            """, source: "mine.txt")
        #expect(s.providers.map(\.name) == ["My Parking", "mine.txt:4", "Other"])
        #expect(s.match([ResourceRecord(owner: "v.", type: .a, ttl: 1, rdataFields: ["198.51.100.7"])])?.provider == "My Parking")
        #expect(s.match([ResourceRecord(owner: "v.", type: .aaaa, ttl: 1, rdataFields: ["2001:db8::1"])])?.provider == "mine.txt:4")

        let bad: [(String, Int, String)] = [
            ("NS\n", 1, "expected 'TYPE VALUE"),
            ("\nMX 10 mail.example.", 2, "expected 'TYPE VALUE"),
            ("TXT hello", 1, "unknown type 'TXT'"),
            ("A 300.1.1.1", 1, "not an IPv4 address"),
            ("AAAA 192.0.2.1", 1, "not an IPv6 address"),
            ("A 192.0.2.0/33", 1, "not an IPv4 address"),
            ("NS bad..name", 1, "not a name pattern"),
            ("NS x\u{1B}[2J.com", 1, "U+001B"),
        ]
        for (text, line, needle) in bad {
            do {
                _ = try ParkingSignatures.parseUserFile(text, source: "f")
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.line == line, "\(text)")
                #expect(error.description.contains(needle), "\(error)")
                #expect(!error.description.unicodeScalars.contains("\u{1B}"))
            }
        }
    }

    @Test func userFileParserSurvivesArbitraryBytes() {
        var rng = SplitMix64(seed: 99)
        let alphabet = Array("NSACMEAAAA 0123456789abcdef.:/%|#\n\t-".utf8) + [0, 0x1B, 0xC3, 0xFF, 0x80]
        var parsed = 0, rejected = 0
        for _ in 0..<5_000 {
            let bytes = (0..<Int(rng.next() % 120)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let text = String(decoding: bytes, as: UTF8.self)
            let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count
            do {
                let signatures = try ParkingSignatures.parseUserFile(text, source: "fuzz")
                // Whatever was accepted is usable: matching never traps, and an empty record list matches nothing.
                #expect(signatures.match([]) == nil)
                parsed += 1
            } catch {
                // The line named is one of the input's, and the message is printable and says something.
                #expect((1...lineCount).contains(error.line), "line \(error.line) of \(lineCount)")
                #expect(!error.message.isEmpty)
                #expect(error.description.hasPrefix("fuzz:\(error.line): "))
                #expect(!error.description.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
                rejected += 1
            }
        }
        #expect(parsed > 0 && rejected > 0, "parsed \(parsed), rejected \(rejected)")
    }

    @Test func rootHintsFiles() throws {
        let hints = try RootHints.parse("""
            ; comment
            .                        3600000      NS    A.ROOT-SERVERS.NET.
            A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4
            A.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:ba3e::2:30
            """, source: "named.root")
        #expect(hints.servers.map(\.name) == ["a.root-servers.net."])
        #expect(hints.addresses.count == 2)
        #expect(RootHints.iana.servers.count == 13)
        #expect(RootHints.iana.addresses.count == 26)
        for (text, needle) in [("", "no NS records"), (". NS a.\n", "has no A or AAAA"), (". 1 IN MX 10 a.\n", "unexpected record type"),
                               ("a. 1 A 1.2.3.400\n. NS a.\n", "not a valid IPv4"), ("x. NS a.\n", "must belong to '.'")] {
            #expect(throws: RootHints.ParseError.self) { try RootHints.parse(text, source: "h") }
            do { _ = try RootHints.parse(text, source: "h") } catch { #expect(error.description.contains(needle), "\(error)") }
        }
    }
}
