import Foundation
import Testing
@testable import DNSProp

/// The real client against `GlobalpingStandIn`, which validates requests and rate-limits
/// the way api.globalping.io does (issue #19; #15 items 5–7).
@Suite("Globalping against the validating stand-in", .serialized)
struct GlobalpingStandInTests {
    typealias Probe = GlobalpingStandIn.Probe

    /// What every well-behaved probe answers: one record per type.
    static let answers: @Sendable (String, String) -> String = { type, target in
        let name = target.hasSuffix(".") ? target : target + "."
        switch type {
        case "A": return GlobalpingStandIn.finished([(name, "A", 300, "192.0.2.1")])
        case "AAAA": return GlobalpingStandIn.finished([(name, "AAAA", 300, "2001:db8::1")])
        case "MX": return GlobalpingStandIn.finished([(name, "MX", 300, "10 mail.example.com.")])
        case "TXT": return GlobalpingStandIn.finished([(name, "TXT", 300, "\"v=spf1 -all\"")])
        default: return GlobalpingStandIn.finished([])
        }
    }

    static func probe(_ country: String, _ continent: String, _ city: String, asn: Int, network: String = "Example Net",
                      tags: [String] = [], resolvers: [String] = ["private"]) -> Probe {
        Probe(continent: continent, country: country, city: city, asn: asn, network: network, tags: tags, resolvers: resolvers, answer: answers)
    }

    /// A small world: two probes per continent, countries that are also continent codes included.
    static func world() -> [Probe] {
        [probe("DE", "EU", "Berlin", asn: 3320, network: "Deutsche Telekom AG", tags: ["eyeball-network"]),
         probe("DE", "EU", "Frankfurt", asn: 24940, network: "Hetzner", tags: ["datacenter-network"]),
         probe("FR", "EU", "Paris", asn: 3215, network: "Orange", tags: ["eyeball-network"]),
         probe("FR", "EU", "Lyon", asn: 16276, network: "OVH", tags: ["datacenter-network"]),
         probe("US", "NA", "Dallas", asn: 7922, network: "Comcast", tags: ["eyeball-network"]),
         probe("US", "NA", "Ashburn", asn: 16509, network: "Amazon", tags: ["datacenter-network"]),
         probe("AU", "OC", "Sydney", asn: 1221, network: "Telstra"),
         probe("AS", "OC", "Pago Pago", asn: 9219, network: "Blue Sky"),
         probe("JP", "AS", "Tokyo", asn: 2516, network: "KDDI"),
         probe("SA", "AS", "Riyadh", asn: 25019, network: "STC"),
         probe("BR", "SA", "São Paulo", asn: 28573, network: "Claro"),
         probe("NA", "AF", "Windhoek", asn: 36996, network: "Telecom Namibia")]
    }

    static let expected: [RecordType: [String]] = [.a: ["192.0.2.1"], .aaaa: ["2001:db8::1"], .mx: ["10 mail.example.com."],
                                                   .txt: ["\"v=spf1 -all\""], .caa: ["0 issue \"ca.example\""], .ns: ["ns1.example.com."]]

    func plan(_ s: GlobalpingStandIn, locations: String = "", probes: Int = 10, types: [RecordType] = [.a],
              resolver: String? = nil, token: String? = nil, name: String = "www.example.com") throws -> PropagationCheck.Plan {
        var plan = PropagationCheck.Plan(names: [try DomainName(name)], types: types, resolvers: [])
        plan.askLocally = false
        plan.checkDelegation = false
        plan.expectations = Self.expected.filter { types.contains($0.key) }
        let client = GlobalpingClient(baseURL: s.baseURL, token: token)
        client.pollInterval = 0.02
        plan.remote = GlobalpingVantage(client: client, locations: try GlobalpingVantage.parseLocations(locations, probes: probes),
                                        probes: min(probes, client.maxProbesPerMeasurement), resolver: resolver)
        return plan
    }

    func run(_ plan: PropagationCheck.Plan) async -> PropagationCheck.Report {
        let engine = QueryEngine()
        defer { engine.shutdown() }
        return await PropagationCheck(plan: plan, engine: engine).run()
    }

    func statuses(_ s: GlobalpingStandIn) -> [Int] { s.log.map(\.status) }

    // #19 finding 1: the defaults are accepted (one kind of limit).
    @Test func defaultRequestIsAccepted() async throws {
        let s = try GlobalpingStandIn(probes: Self.world())
        defer { s.stop() }
        let report = await run(try plan(s))
        #expect(report.remoteError == nil, "\(report.remoteError ?? "")")
        #expect(!statuses(s).contains(400), "\(s.log)")
        #expect(report.verdicts.count == 10)
        #expect(report.verdicts.allSatisfy { $0.status == .current })
    }

    // #19 finding 2: --probes 60 --locations DE,FR stays within the anonymous caps.
    @Test func sixtyProbesInTwoCountriesStayWithinTheAnonymousCaps() async throws {
        let s = try GlobalpingStandIn(probes: Self.world())
        defer { s.stop() }
        let report = await run(try plan(s, locations: "DE,FR", probes: 60))
        #expect(report.remoteError == nil, "\(report.remoteError ?? "")")
        #expect(!statuses(s).contains(400), "\(s.log)")
        #expect(report.verdicts.count == 4)
        let body = try #require(s.postBodies.first)
        let perLocation = ((body["locations"] as? [[String: Any]]) ?? []).compactMap { $0["limit"] as? Int }
        #expect((body["limit"] as? Int ?? perLocation.reduce(0, +)) <= 50)
    }

    // #19 finding 3: continents by code and name, countries by ISO code, never ambiguous.
    @Test func continentsCountriesNetworksAndTagsAreAccepted() async throws {
        let s = try GlobalpingStandIn(probes: Self.world())
        defer { s.stop() }
        let report = await run(try plan(s, locations: "EU,Europe,DE,AS3320,eyeball", probes: 10))
        #expect(report.remoteError == nil, "\(report.remoteError ?? "")")
        #expect(!statuses(s).contains(400), "\(s.log)")
        let locations = try #require(s.postBodies.first?["locations"] as? [[String: Any]])
        #expect(locations.count == 5)
        #expect(locations[0]["continent"] as? String == "EU")
        #expect(locations[1]["continent"] as? String == "EU")
        #expect(locations[2]["country"] as? String == "DE")
        #expect(locations[3]["asn"] as? Int == 3320)
        #expect(locations[4]["tags"] as? [String] == ["eyeball-network"])
        // Only European or eyeball probes answered (locations are a union).
        #expect(report.verdicts.count == 5)
        #expect(report.verdicts.allSatisfy { $0.resolver.vantage?.continent == "EU" || $0.resolver.vantage?.tags.contains("eyeball-network") == true })
    }

    // #19 finding 4: a type the API does not take is not sent, and the other questions keep their results.
    @Test func unsupportedTypeIsSkippedRemotelyAndTheRestSurvive() async throws {
        let s = try GlobalpingStandIn(probes: Self.world())
        defer { s.stop() }
        let report = await run(try plan(s, probes: 4, types: [.a, .caa]))
        #expect(!statuses(s).contains(400), "\(s.log)")
        let types = s.postBodies.compactMap { (($0["measurementOptions"] as? [String: Any])?["query"] as? [String: Any])?["type"] as? String }
        #expect(types == ["A"])
        #expect(report.verdicts.filter { $0.status == .current }.count == 4)
    }

    // #19 finding 4: PTR asks for the address, not the reverse name.
    @Test func ptrIsAskedForTheAddress() async throws {
        let s = try GlobalpingStandIn(probes: Self.world())
        defer { s.stop() }
        var p = try plan(s, probes: 2, types: [.ptr], name: "1.113.0.8.in-addr.arpa")
        p.expectations = [.ptr: ["host.example."]]
        let report = await run(p)
        #expect(!statuses(s).contains(400), "\(s.log)")
        #expect(s.postBodies.first?["target"] as? String == "8.0.113.1")
        #expect(report.verdicts.count == 2)
    }

    // #19 finding 5: a resolver with a port or a private address is never sent as typed.
    @Test func privateResolverWithPortIsRefusedBeforeSending() async throws {
        let s = try GlobalpingStandIn(probes: Self.world())
        defer { s.stop() }
        let report = await run(try plan(s, probes: 2, resolver: "127.0.0.1:5353"))
        #expect(!statuses(s).contains(400), "\(s.log)")
        #expect(s.postBodies.isEmpty)
        #expect(report.remoteError?.contains("private") == true, "\(report.remoteError ?? "")")
    }

    // #19 finding 6: a POST 429 carries X-RateLimit-Reset, not Retry-After.
    @Test func postRateLimitSaysWhenTheBudgetResets() async throws {
        let s = try GlobalpingStandIn(probes: Self.world())
        defer { s.stop() }
        let p = try plan(s, probes: 10)
        for _ in 0..<25 { _ = await run(p) }      // 250 points
        #expect(s.consumed() == 250)
        let report = await run(p)
        #expect(statuses(s).last == 429)
        #expect(report.remoteError?.contains("rate limit") == true, "\(report.remoteError ?? "")")
        #expect(report.remoteError?.contains("resets in") == true, "\(report.remoteError ?? "")")
    }

    // #19 finding 6: a GET 429 is waited out (Retry-After), not the end of the run.
    @Test func getRateLimitIsWaitedOut() async throws {
        let s = try GlobalpingStandIn(probes: Self.world())
        defer { s.stop() }
        s.pollsBeforeFinished = 3
        s.getLimit = 2
        s.getBlock = 1
        let report = await run(try plan(s, probes: 2))
        #expect(statuses(s).contains(429))
        #expect(report.remoteError == nil, "\(report.remoteError ?? "")")
        #expect(report.verdicts.count == 2)
    }

    // #19 finding 8: failureSource "internal" is Globalping giving up, not a timeout; rawOutput is not parsed.
    @Test func internalFailureIsNotATimeout() async throws {
        var probes = Self.world()
        probes[0].answer = { _, _ in GlobalpingStandIn.failed("internal", rawOutput: "; <<>> DiG 9.18 <<>> -t A example.com +timeout=5 +tries=2\nTest failed. Please try again.") }
        let s = try GlobalpingStandIn(probes: probes)
        defer { s.stop() }
        let report = await run(try plan(s, locations: "Berlin", probes: 1))
        let v = try #require(report.verdicts.first, "\(report.remoteError ?? "") \(s.log)")
        #expect(v.status != .timeout)
        #expect(v.reason.contains("Globalping"), "\(v.reason)")
    }

    // #19 finding 9: probes with the same labels and a "private" resolver stay apart, in rows and across rounds.
    @Test func probesAreNeverMerged() async throws {
        var probes = (0..<5).map { _ in Self.probe("DE", "EU", "Berlin", asn: 3320, network: "Deutsche Telekom AG") }
        probes[1].answer = { _, t in GlobalpingStandIn.finished([(t + ".", "A", 300, "198.51.100.7")]) }
        probes[2].answer = { _, _ in GlobalpingStandIn.failed("resolver", rawOutput: ";; connection timed out; no servers could be reached") }
        probes[3].answer = { _, _ in GlobalpingStandIn.failed("resolver", rawOutput: ";; connection timed out; no servers could be reached") }
        let s = try GlobalpingStandIn(probes: probes)
        defer { s.stop() }
        let p = try plan(s, probes: 5)
        let first = await run(p)
        #expect(first.verdicts.count == 5)
        #expect(Set(first.verdicts.map(\.resolver.address)).count == 5)
        #expect(first.verdicts.filter { $0.status == .current }.count == 2)
        #expect(first.verdicts.filter { $0.status == .stale }.count == 1)
        let second = await run(p)
        #expect(second.verdicts.map(\.resolver.address) == first.verdicts.map(\.resolver.address))
        #expect(second.verdicts.map(\.status) == first.verdicts.map(\.status))
    }

    // #19 finding 10: null name/type and {} answers do not sink the measurement.
    @Test func lenientAnswerDecoding() async throws {
        var probes = Self.world()
        probes[0].answer = { _, t in
            #"{"status":"finished","rawOutput":"","statusCodeName":"NOERROR","statusCode":0,"answers":[{},{"name":null,"type":null,"ttl":null,"class":"IN","value":"x"},{"name":"\#(t).","type":"A","ttl":300,"class":"IN","value":"192.0.2.1"}],"timings":{"total":null},"resolver":"private"}"#
        }
        let s = try GlobalpingStandIn(probes: probes)
        defer { s.stop() }
        let report = await run(try plan(s, probes: 3))
        #expect(report.remoteError == nil, "\(report.remoteError ?? "")")
        #expect(report.verdicts.count == 3)
        #expect(report.verdicts.allSatisfy { $0.status == .current })
    }

    // "One probe set for every question": the first measurement creates, the rest reuse its id, every round.
    @Test func oneProbeSetForEveryQuestionAndRound() async throws {
        let s = try GlobalpingStandIn(probes: Self.world())
        defer { s.stop() }
        let p = try plan(s, probes: 6, types: [.a, .aaaa, .mx])
        let first = await run(p)
        _ = await run(p)
        let bodies = s.postBodies
        #expect(bodies.count == 6)
        #expect(bodies.filter { $0["locations"] is [Any] }.count == 1)
        let id = bodies.compactMap { $0["locations"] as? String }
        #expect(Set(id).count == 1)
        #expect(first.verdicts.count == 18)
        #expect(Set(first.verdicts.map(\.resolver.address)).count == 6)
    }

    // Reused ids expire after 7 days (422): fall back to fresh locations.
    @Test func expiredIdFallsBackToFreshLocations() async throws {
        let s = try GlobalpingStandIn(probes: Self.world())
        defer { s.stop() }
        let p = try plan(s, probes: 3)
        _ = await run(p)
        let id = try #require(s.log.first { $0.method == "GET" }?.path.split(separator: "/").last.map(String.init))
        s.expire(id)
        let report = await run(p)
        #expect(report.remoteError == nil, "\(report.remoteError ?? "")")
        #expect(report.verdicts.count == 3)
        #expect(statuses(s).contains(422))
    }
}
