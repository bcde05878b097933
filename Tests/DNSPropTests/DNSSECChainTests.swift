import Foundation
import Testing
@testable import DNSProp

/// The truth's chain of trust (issue #14, DNSSEC), against zones signed in the test
/// with ldns-signzone and served by in-process authoritative servers: a healthy
/// chain, a stale DS, an expired RRSIG, an unsigned zone, a wrong trust anchor.
@Suite("DNSSEC chain of trust", .serialized)
struct DNSSECChainTests {
    typealias World = IterationBudgetTests.World

    /// Root, test. and victim.test. on 127.94.N.1–3, each signed with its own key.
    struct Signed {
        let world = World()
        let dir: URL
        let rootKey: ZoneSigner.Key
        var hosts: [String]
        var anchor: TrustAnchor { TrustAnchor(ds: [rootKey.ds], dnskeys: []) }

        /// `parentDS`: the DS test. publishes for victim.test. (nil: none, an unsigned delegation).
        /// `victim`: the signed (or not) records of victim.test.
        init(block: Int, build: (URL, String) throws -> (parentDS: ResourceRecord?, victim: [ResourceRecord])) throws {
            dir = try ZoneSigner.temporaryDirectory()
            hosts = (1...3).map { "127.94.\(block).\($0)" }
            rootKey = try ZoneSigner.key(".", in: dir)
            let tldKey = try ZoneSigner.key("test.", in: dir)
            let (parentDS, victim) = try build(dir, hosts[2])
            let soa = "IN SOA ns.nic.test. hostmaster.nic.test. 1 3600 600 86400 60"
            let root = try ZoneSigner.sign(".", """
                $TTL 3600
                . \(soa)
                . IN NS a.root-servers.test.
                test. IN NS ns.nic.test.
                ns.nic.test. IN A \(hosts[1])
                \(tldKey.ds.description)
                """, key: rootKey, in: dir)
            let tld = try ZoneSigner.sign("test.", """
                $TTL 3600
                test. \(soa)
                test. IN NS ns.nic.test.
                ns.nic.test. IN A \(hosts[1])
                victim.test. IN NS ns.victim.test.
                ns.victim.test. IN A \(hosts[2])
                \(parentDS.map(\.description) ?? "")
                """, key: tldKey, in: dir)
            let h1 = hosts[1], h2 = hosts[2]
            try world.add(hosts[0]) { SignedZone(apex: ".", records: root, glue: ["test.": [MiniZone.rr("ns.nic.test.", .a, h1)]]).answer($0) }
            try world.add(hosts[1]) { SignedZone(apex: "test.", records: tld, glue: ["victim.test.": [MiniZone.rr("ns.victim.test.", .a, h2)]]).answer($0) }
            try world.add(hosts[2]) { SignedZone(apex: "victim.test.", records: victim).answer($0) }
        }

        static func victimZone(_ host: String) -> String {
            """
            $TTL 300
            victim.test. IN SOA ns.victim.test. hostmaster.victim.test. 7 3600 600 86400 60
            victim.test. IN NS ns.victim.test.
            ns.victim.test. IN A \(host)
            victim.test. IN A 192.0.2.1
            www.victim.test. IN A 192.0.2.2
            """
        }

        func stop() {
            world.stop()
            try? FileManager.default.removeItem(at: dir)
        }

        /// The truth for (name, A) and its validation from `anchor`.
        func validate(_ name: String, anchor: TrustAnchor? = nil, resolver: IterativeResolver) async throws -> (Truth, DNSSECValidation?) {
            let truth = await TruthFinder(resolver: resolver).truth(for: try DomainName(name), type: .a)
            return (truth, await ChainOfTrust(resolver: resolver, anchor: anchor ?? self.anchor).validate(truth))
        }
    }

    // The time limits only catch a hang: they also count the time a test waits behind the others
    // in a parallel sanitizer run on a loaded machine (180 s seen under ThreadSanitizer), so they are minutes.
    @Test(.timeLimit(.minutes(10)))
    func healthySignedZoneIsSecureAndTheSecondNameAsksNoParent() async throws {
        let s = try Signed(block: 1) { dir, host in
            let key = try ZoneSigner.key("victim.test.", in: dir)
            return (key.ds, try ZoneSigner.sign("victim.test.", Signed.victimZone(host), key: key, in: dir))
        }
        defer { s.stop() }
        let engine = IterationBudgetTests.engine()
        defer { engine.shutdown() }
        let resolver = IterativeResolver(engine: engine, options: s.world.options([s.hosts[0]]))
        let (truth, result) = try await s.validate("victim.test", resolver: resolver)
        #expect(truth.answer?.records.map(\.rdata) == ["192.0.2.1"], "\(truth.failure ?? "")")
        let v = try #require(result)
        #expect(v.state == .secure, "\(v)")
        #expect(v.finding == nil)
        #expect(v.trail.contains { $0.hasPrefix("test.: DS for victim.test.") }, "\(v.trail)")

        // Another name of the zone: the keys and DS sets come from the cache.
        let before = s.world.received([s.hosts[0], s.hosts[1]])
        let (_, second) = try await s.validate("www.victim.test", resolver: resolver)
        #expect(second?.state == .secure)
        #expect(s.world.received([s.hosts[0], s.hosts[1]]) == before)
    }

    /// The renewal moved victim.test. to a new key while test. still holds the old DS.
    @Test(.timeLimit(.minutes(10)))
    func staleDSIsABrokenChain() async throws {
        let s = try Signed(block: 2) { dir, host in
            let old = try ZoneSigner.key("victim.test.", in: dir)
            let new = try ZoneSigner.key("victim.test.", in: dir)
            return (old.ds, try ZoneSigner.sign("victim.test.", Signed.victimZone(host), key: new, in: dir))
        }
        defer { s.stop() }
        let engine = IterationBudgetTests.engine()
        defer { engine.shutdown() }
        let resolver = IterativeResolver(engine: engine, options: s.world.options([s.hosts[0]]))
        let (_, result) = try await s.validate("victim.test", resolver: resolver)
        let v = try #require(result)
        #expect(v.state == .bogus)
        let finding = try #require(v.finding)
        #expect(finding.hasPrefix("DS at test. matches no DNSKEY of victim.test."), "\(finding)")
    }

    /// Every RRSIG of the zone good, but the A RRset's signature made with an expired period.
    @Test(.timeLimit(.minutes(10)))
    func expiredRRSIGIsNamedWithItsDate() async throws {
        let s = try Signed(block: 3) { dir, host in
            let key = try ZoneSigner.key("victim.test.", in: dir)
            var good = try ZoneSigner.sign("victim.test.", Signed.victimZone(host), key: key, in: dir)
            let old = try ZoneSigner.sign("victim.test.", Signed.victimZone(host), key: key, in: dir,
                                          options: ["-i", "20190101000000", "-e", "20200101000000"])
            let isApexASig: (ResourceRecord) -> Bool = { $0.type == .rrsig && $0.owner == "victim.test." && $0.rdataFields.first == "A" }
            good.removeAll(where: isApexASig)
            good += old.filter(isApexASig)
            return (key.ds, good)
        }
        defer { s.stop() }
        let engine = IterationBudgetTests.engine()
        defer { engine.shutdown() }
        let resolver = IterativeResolver(engine: engine, options: s.world.options([s.hosts[0]]))
        let (_, result) = try await s.validate("victim.test", resolver: resolver)
        #expect(result?.state == .bogus)
        #expect(result?.finding == "RRSIG of victim.test. A expired 2020-01-01 00:00:00 UTC", "\(String(describing: result))")
        // www's signature is still good.
        let (_, www) = try await s.validate("www.victim.test", resolver: resolver)
        #expect(www?.state == .secure, "\(String(describing: www))")
    }

    /// No DS at the parent (its NSEC proves it): insecure, not an error.
    @Test(.timeLimit(.minutes(10)))
    func unsignedZoneIsInsecure() async throws {
        let s = try Signed(block: 4) { _, host in
            (nil, try ZoneSigner.records(Signed.victimZone(host).split(separator: "\n").dropFirst().joined(separator: "\n")))
        }
        defer { s.stop() }
        let engine = IterationBudgetTests.engine()
        defer { engine.shutdown() }
        let resolver = IterativeResolver(engine: engine, options: s.world.options([s.hosts[0]]))
        let (truth, result) = try await s.validate("victim.test", resolver: resolver)
        #expect(truth.answer?.records.map(\.rdata) == ["192.0.2.1"])
        let v = try #require(result)
        #expect(v.state == .insecure, "\(v)")
        #expect(v.finding == nil)
        #expect(v.trail.last == "test.: no DS for victim.test. (signed denial)", "\(v.trail)")
    }

    /// A DS only of an algorithm ldns cannot check (private algorithm 253): unsigned, as
    /// validators treat it (RFC 4035 §5.2), not bogus.
    @Test(.timeLimit(.minutes(10)))
    func dsOfAnUnknownAlgorithmIsInsecure() async throws {
        let s = try Signed(block: 6) { dir, host in
            let key = try ZoneSigner.key("victim.test.", in: dir)
            let unknown = ResourceRecord(owner: "victim.test.", type: .ds, ttl: 3600,
                                         rdataFields: [key.ds.rdataFields[0], "253", "2", key.ds.rdataFields[3]])
            return (unknown, try ZoneSigner.sign("victim.test.", Signed.victimZone(host), key: key, in: dir))
        }
        defer { s.stop() }
        let engine = IterationBudgetTests.engine()
        defer { engine.shutdown() }
        let resolver = IterativeResolver(engine: engine, options: s.world.options([s.hosts[0]]))
        let (_, result) = try await s.validate("victim.test", resolver: resolver)
        #expect(result?.state == .insecure, "\(String(describing: result))")
        #expect(result?.trail.last?.contains("ldns cannot check") == true)
    }

    /// The IANA anchor against a root that is not IANA's: the root itself fails.
    @Test(.timeLimit(.minutes(10)))
    func rootThatMatchesNoAnchorKey() async throws {
        let s = try Signed(block: 5) { dir, host in
            let key = try ZoneSigner.key("victim.test.", in: dir)
            return (key.ds, try ZoneSigner.sign("victim.test.", Signed.victimZone(host), key: key, in: dir))
        }
        defer { s.stop() }
        let engine = IterationBudgetTests.engine()
        defer { engine.shutdown() }
        let resolver = IterativeResolver(engine: engine, options: s.world.options([s.hosts[0]]))
        let (_, result) = try await s.validate("victim.test", anchor: .ianaRoot, resolver: resolver)
        #expect(result?.state == .bogus)
        #expect(result?.finding?.hasPrefix("no DNSKEY of . matches the trust anchor (DS key tag 20326, 38696)") == true, "\(String(describing: result))")
    }

    @Test func trustAnchorFileParsesDSAndDNSKEYAndRejectsOthers() throws {
        let ok = try TrustAnchor.parse("""
            ; IANA root KSK-2017
            . 172800 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
            .\tIN\tDNSKEY\t257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
            """).get()
        #expect(ok.ds.count == 1 && ok.dnskeys.count == 1)
        #expect(ok.ds[0].rdataFields.first == "20326")
        #expect(throws: TrustAnchor.ParseError.self) { try TrustAnchor.parse(". IN A 192.0.2.1").get() }
        #expect(throws: TrustAnchor.ParseError.self) { try TrustAnchor.parse("com. IN DS 1 8 2 AABB").get() }
        #expect(throws: TrustAnchor.ParseError.self) { try TrustAnchor.parse("not a record at all").get() }
        #expect(throws: TrustAnchor.ParseError.self) { try TrustAnchor.parse("; nothing\n").get() }
    }
}
