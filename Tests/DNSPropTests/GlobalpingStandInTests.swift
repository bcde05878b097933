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
        // Polling gives up after pollTimeout, which counts the time a parallel run keeps this test
        // waiting behind the others (over 30 s seen under load): far more than the 60-s default.
        client.pollTimeout = 600
        plan.remote = GlobalpingVantage(client: client, locations: try GlobalpingVantage.parseLocations(locations, probes: probes),
                                        probes: min(probes, client.maxProbesPerMeasurement), resolver: resolver)
        return plan
    }

    func run(_ plan: PropagationCheck.Plan) async -> PropagationReport {
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
        // The 429's headers feed the pacing: the next remote round waits for the reset.
        guard case .wait(let until, let reason) = p.remote!.roundDecision(questions: 1) else { Issue.record("not paced"); return }
        #expect(until > Date().addingTimeInterval(3000))
        #expect(reason.contains("0 of 250 tests left"), "\(reason)")
    }

    // #19 finding 6: a GET 429 is waited out (Retry-After), not the end of the run.
    @Test func getRateLimitIsWaitedOut() async throws {
        let s = try GlobalpingStandIn(probes: Self.world())
        defer { s.stop() }
        s.pollsBeforeFinished = 3
        s.getLimit = 2
        s.getBlock = 1
        // The limiter's clock stands still until a poll has been refused, then moves past the
        // block and the 2-s window: the third poll is refused however slowly a loaded machine
        // polls (with the real clock, three polls had to fit in 2 s).
        let clock = SimulatedClock()
        clock.seconds = 1000
        s.now = { clock.seconds }
        let moved = LockedFlag()
        DispatchQueue.global().async {
            _ = eventuallyBlocking(within: 60) { s.log.contains { $0.status == 429 } }
            clock.seconds += 100
            moved.set(true)
        }
        let report = await run(try plan(s, probes: 2))
        await eventually(within: 60) { moved.value }
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
        // Created at once, then polled: not one question after another.
        #expect(s.log.prefix(3).map(\.method) == ["POST", "POST", "POST"], "\(s.log)")
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

/// The request builder, checked against the stand-in's port of the real schemas.
@Suite("Globalping request builder")
struct GlobalpingRequestBuilderTests {
    static let locationSpecs = ["", "EU,Europe,DE,AS3320,eyeball", "DE,FR", "oc,Oceania,south-america,AN", "datacenter,Sydney,Namibia,Bavaria+DE",
                                "US,GB,JP,XK", "Windhoek"]
    static let resolvers: [String?] = [nil, "8.8.8.8", "8.8.8.8:5353", "2001:4860:4860::8888", "[2001:4860:4860::8888]:53", "dns.google", "dns.google."]

    /// "Every request the CLI can build is accepted": all allowed types × location specs × resolvers × probe counts.
    @Test func everyBuildableRequestPassesTheRealSchemas() throws {
        let encoder = JSONEncoder()
        var checked = 0
        for spec in Self.locationSpecs {
            let locations = try GlobalpingRequestBuilder.parseLocations(spec)
            for type in GlobalpingRequestBuilder.allowedTypes {
                let name = type == .ptr ? "8.8.8.8.in-addr.arpa." : "www.example.com."
                guard case .success(let target) = GlobalpingRequestBuilder.target(for: Question(name: name, type: type)) else {
                    Issue.record("\(type.name) not buildable"); continue
                }
                for resolver in Self.resolvers {
                    var options = Globalping.MeasurementRequest.Options(query: .init(type: type.name), resolver: nil)
                    if let resolver { let r = try GlobalpingRequestBuilder.resolver(resolver); options.resolver = r.resolver; options.port = r.port }
                    for (probes, cap) in [(1, 50), (10, 50), (60, 50), (500, 50), (500, 500)] {
                        for reuse in [nil, "2abc"] as [String?] {
                            let body = Globalping.MeasurementRequest(target: target, locations: reuse.map { .measurement($0) } ?? .locations(locations),
                                                                     limit: reuse == nil ? GlobalpingRequestBuilder.limit(probes: probes, cap: cap) : nil,
                                                                     measurementOptions: options)
                            let json = try #require(try JSONSerialization.jsonObject(with: try encoder.encode(body)) as? [String: Any])
                            let params = Validator(authenticated: cap == 500).validate(json)
                            #expect(params.isEmpty, "\(spec) \(type.name) \(resolver ?? "-") \(probes): \(params)")
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked == Self.locationSpecs.count * 16 * Self.resolvers.count * 10)
    }

    @Test func continentsAndCountriesAreNeverAmbiguous() throws {
        let l = try GlobalpingRequestBuilder.parseLocations("EU,oc,Europe,south-america,AN,DE,Namibia,AS3320")
        #expect(l.map(\.continent) == ["EU", "OC", "EU", "SA", "AN", nil, nil, nil])
        #expect(l[5].country == "DE")
        #expect(l[6].magic == "Namibia")
        #expect(l[7].asn == 3320)
        for (code, country, continent) in [("AS", "American Samoa", "Asia"), ("NA", "Namibia", "North America"),
                                           ("sa", "Saudi Arabia", "South America"), ("AF", "Afghanistan", "Africa")] {
            #expect(throws: GlobalpingRequestBuilder.BuildError.ambiguousLocation(code, country: country, continent: continent)) {
                try GlobalpingRequestBuilder.parseLocations(code)
            }
        }
        #expect(throws: GlobalpingRequestBuilder.BuildError.unknownCountry("XX")) { try GlobalpingRequestBuilder.parseLocations("XX") }
        #expect(throws: (any Error).self) { try GlobalpingRequestBuilder.parseLocations("a+b+c+d+e") }
        #expect(throws: GlobalpingRequestBuilder.BuildError.tooManyLocations(51, max: 50)) {
            try GlobalpingRequestBuilder.parseLocations((0..<51).map { "AS\($0 + 1)" }.joined(separator: ","))
        }
    }

    @Test func resolversAreAddressesOrNamesWithoutPortAndPublic() throws {
        #expect(try GlobalpingRequestBuilder.resolver("8.8.8.8:5353") == ("8.8.8.8", 5353))
        #expect(try GlobalpingRequestBuilder.resolver("[2001:4860:4860::8888]:53") == ("2001:4860:4860::8888", 53))
        #expect(try GlobalpingRequestBuilder.resolver("Dns.Google.") == ("dns.google", 53))
        for text in ["127.0.0.1:5353", "10.1.2.3", "192.168.1.1", "100.64.0.1", "::1", "fd00::1", "[fe80::1]:53", "192.0.2.1"] {
            #expect(throws: GlobalpingRequestBuilder.BuildError.resolverIsPrivate(text)) { try GlobalpingRequestBuilder.resolver(text) }
        }
        #expect(throws: GlobalpingRequestBuilder.BuildError.resolverBadPort("8.8.8.8:0")) { try GlobalpingRequestBuilder.resolver("8.8.8.8:0") }
        #expect(throws: GlobalpingRequestBuilder.BuildError.resolverNotAddressOrName("not a host")) { try GlobalpingRequestBuilder.resolver("not a host") }
        #expect(throws: GlobalpingRequestBuilder.BuildError.resolverNotAddressOrName("localhost")) { try GlobalpingRequestBuilder.resolver("localhost") }
        for a in ["0.1.2.3", "10.0.0.1", "100.127.255.255", "127.0.0.1", "169.254.1.1", "172.31.0.1", "192.0.0.1", "192.0.2.1", "192.88.99.1", "192.168.0.1",
                  "198.19.0.1", "198.51.100.1", "203.0.113.1", "224.0.0.1", "255.255.255.255", "::", "::1", "64:ff9b:1::1", "100::1", "2001::1",
                  "2001:10::1", "2001:20::1", "2001:db8::1", "2002::1", "fc00::1", "fe80::1", "ff02::1", "8.8.8.8", "1.1.1.1", "2606:4700::1111",
                  "100.128.0.1", "172.32.0.1", "2003::1"] {
            let ip = try #require(IPAddress(a))
            #expect(GlobalpingAddressRanges.isPrivate(ip) == Validator.isPrivate(ip), "\(a)")
        }
    }

    @Test func typesAndTargets() {
        #expect(GlobalpingRequestBuilder.allowedTypes.count == 16)
        for t in [RecordType.caa, .tlsa, .naptr, RecordType(rawValue: 65280)] {
            #expect(GlobalpingRequestBuilder.target(for: Question(name: "example.com.", type: t)) == .failure(.typeNotSupported(t)))
        }
        #expect(GlobalpingRequestBuilder.target(for: Question(name: "8.8.8.8.in-addr.arpa.", type: .ptr)) == .success("8.8.8.8"))
        let v6 = "8.8.8.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.8.4.0.6.8.4.1.0.0.2.ip6.arpa."
        #expect(GlobalpingRequestBuilder.target(for: Question(name: v6, type: .ptr)) == .success("2001:4860:4860::8888"))
        if case .success = GlobalpingRequestBuilder.target(for: Question(name: "1.2.0.192.in-addr.arpa.", type: .ptr)) { Issue.record("private PTR target sent") }
        if case .success = GlobalpingRequestBuilder.target(for: Question(name: "example.com.", type: .ptr)) { Issue.record("PTR without an address sent") }
        if case .success = GlobalpingRequestBuilder.target(for: Question(name: "a\\032b.example.", type: .a)) { Issue.record("escaped name sent") }
        #expect(GlobalpingRequestBuilder.target(for: Question(name: "_dmarc.Example.com.", type: .txt)) == .success("_dmarc.Example.com"))
        #expect(GlobalpingRequestBuilder.target(for: Question(name: ".", type: .ns)) == .success("."))
    }
}

/// Hostile or unusual API answers (#15 items 5–7) and the budget.
@Suite("Globalping: hostile answers, token safety, budget", .serialized)
struct GlobalpingHostileTests {
    let t = GlobalpingStandInTests()

    static func scripted(id: String = "2abcDEF123", probes: Int = 1, result: String) throws -> TestHTTPServer {
        try TestHTTPServer { r in
            if r.method == "POST" { return .init(status: 202, body: #"{"id":"\#(id)","probesCount":\#(probes)}"#) }
            return .init(status: 200, body: #"{"id":"\#(id)","type":"dns","status":"finished","results":[\#(result)]}"#)
        }
    }
    static let probe = #"{"continent":"EU","country":"DE","city":"Berlin","asn":3320,"network":"DTAG","tags":[],"resolvers":["private"]}"#

    func plan(_ server: TestHTTPServer, token: String? = nil, probes: Int = 1, types: [RecordType] = [.a]) throws -> PropagationCheck.Plan {
        var plan = PropagationCheck.Plan(names: [try DomainName("www.example.com")], types: types, resolvers: [])
        plan.askLocally = false
        plan.checkDelegation = false
        plan.expectations = GlobalpingStandInTests.expected.filter { types.contains($0.key) }
        let client = GlobalpingClient(baseURL: server.baseURL, token: token)
        client.pollInterval = 0.02
        // Polling gives up after pollTimeout, which counts the time a parallel run keeps this test
        // waiting behind the others (over 30 s seen under load): far more than the 60-s default.
        client.pollTimeout = 600
        plan.remote = GlobalpingVantage(client: client, locations: [], probes: probes, resolver: nil)
        return plan
    }

    // #15 item 5: statusCode -1 / 70000, odd TTLs and timings never trap.
    @Test func outOfRangeNumbersDoNotTrap() async throws {
        let odd = [#"{"status":"finished","rawOutput":"","statusCode":-1,"answers":[],"timings":{"total":-5},"resolver":null}"#,
                   #"{"status":"finished","rawOutput":"","statusCode":70000,"answers":[],"timings":{"total":1e308},"resolver":null}"#,
                   #"{"status":"finished","rawOutput":"","statusCode":1e300,"statusCodeName":null,"answers":[]}"#,
                   #"{"status":"finished","rawOutput":"","statusCode":"zero","statusCodeName":"NOERROR","answers":[{"name":"www.example.com.","type":"A","ttl":-5,"class":"IN","value":"192.0.2.1"},{"name":"www.example.com.","type":"A","ttl":1e20,"class":"IN","value":"192.0.2.1"},{"name":"www.example.com.","type":"A","ttl":"x","class":"IN","value":"192.0.2.1"}],"timings":{"total":"x"}}"#,
                   #"{"status":"weird","rawOutput":""}"#]
        let results = odd.map { #"{"probe":\#(Self.probe),"result":\#($0)}"# }.joined(separator: ",")
        let server = try Self.scripted(probes: odd.count, result: results)
        defer { server.stop() }
        let report = await t.run(try plan(server, probes: 5))
        #expect(report.remoteError == nil, "\(report.remoteError ?? "")")
        #expect(report.verdicts.count == 5)
        #expect(report.verdicts.prefix(3).allSatisfy { $0.status == .error && $0.reason.contains("response code") })
        #expect(report.verdicts[3].status == .current)
        #expect(report.verdicts[3].ttl == 0)
        #expect(report.verdicts[4].status == .error)
    }

    // #15 item 5: no more results than probes; no body past the cap.
    @Test func resultCountsAndBodySizesAreCapped() async throws {
        let one = #"{"probe":{},"result":{"status":"finished","rawOutput":"","statusCodeName":"NOERROR","answers":[]}}"#
        let many = try Self.scripted(probes: 10, result: Array(repeating: one, count: 50_000).joined(separator: ","))
        defer { many.stop() }
        let r1 = await t.run(try plan(many, probes: 10))
        #expect(r1.verdicts.isEmpty)
        #expect(r1.remoteError?.contains("unexpected answer from Globalping") == true, "\(r1.remoteError ?? "")")
        let eleven = try Self.scripted(probes: 10, result: Array(repeating: one, count: 11).joined(separator: ","))
        defer { eleven.stop() }
        let r2 = await t.run(try plan(eleven, probes: 10))
        #expect(r2.verdicts.isEmpty)
        #expect(r2.remoteError?.contains("11 results for 10 probes") == true, "\(r2.remoteError ?? "")")

        let big = String(repeating: " ", count: 3 << 20)
        let huge = try TestHTTPServer { r in
            r.method == "POST" ? .init(status: 202, body: #"{"id":"2abc","probesCount":1}"#)
                               : .init(status: 200, body: #"{"id":"2abc","status":"finished","results":[]}"# + big)
        }
        defer { huge.stop() }
        let p = try plan(huge)
        p.remote!.client.maxResponseBytes = 1 << 20
        let r3 = await t.run(p)
        #expect(r3.remoteError?.contains("larger than 1048576 bytes") == true, "\(r3.remoteError ?? "")")
        #expect(GlobalpingClient().maxResponseBytes <= 64 << 20)
    }

    // #15 item 6: a server-supplied id (or any API text) never reaches the terminal raw.
    @Test func measurementIdAndMessagesAreEscaped() async throws {
        let evil = "2ab\u{1B}]0;pwned\u{07}\u{1B}[2J"
        let server = try TestHTTPServer { r in
            r.method == "POST" ? .init(status: 202, body: #"{"id":"2ab\u001b]0;pwned\u0007\u001b[2J","probesCount":1}"#) : .init(status: 404)
        }
        defer { server.stop() }
        let report = await t.run(try plan(server))
        let e = try #require(report.remoteError)
        #expect(!e.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(e.debugDescription)")
        #expect(e.contains("\\x1B]0;pwned"))
        #expect(!server.requests.contains { $0.method == "GET" })
        #expect(!e.contains(evil))
        let params = try TestHTTPServer { _ in
            .init(status: 400, body: #"{"error":{"type":"validation_error","message":"Parameter validation failed.\u001b[2J","params":{"locations[0].limit":"\"locations[0].limit\" is not allowed when a global limit is set\u001b]0;x\u0007"}},"links":{"documentation":"https://globalping.io/docs/api.globalping.io"}}"#)
        }
        defer { params.stop() }
        let r2 = await t.run(try plan(params))
        let e2 = try #require(r2.remoteError)
        // #19 finding 7: the 400's params reach the user.
        #expect(e2.contains(#"locations[0].limit: "locations[0].limit" is not allowed when a global limit is set"#), "\(e2)")
        #expect(!e2.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
    }

    @Test func commandLineEscapesTheRemoteError() async throws {
        let server = try TestHTTPServer { r in
            r.method == "POST" ? .init(status: 202, body: #"{"id":"2ab\u001b]0;pwned\u0007","probesCount":1}"#) : .init(status: 404)
        }
        defer { server.stop() }
        let run = try await ToolRun.run(["check", "example.com", "--from", "globalping", "--globalping-url", server.baseURL.absoluteString,
                                   "--no-delegation", "--expect", "A=192.0.2.1"], environment: ["GLOBALPING_TOKEN": ""])
        #expect(run.status == 2)
        #expect(!run.stderr.contains("\u{1B}") && !run.stderr.contains("\u{07}"), "\(run.stderr.debugDescription)")
        #expect(run.stderr.contains("not a Globalping id"))
    }

    // #15 item 7: the token never follows a redirect to another origin.
    @Test func tokenDoesNotFollowRedirectsToAnotherOrigin() async throws {
        let elsewhere = try TestHTTPServer { _ in .init(status: 202, body: #"{"id":"2abc","probesCount":1}"#) }
        defer { elsewhere.stop() }
        let api = try TestHTTPServer { r in
            .init(status: 307, headers: ["Location": elsewhere.baseURL.absoluteString + "/measurements"])
        }
        defer { api.stop() }
        let report = await t.run(try plan(api, token: "secret"))
        #expect(elsewhere.requests.allSatisfy { $0.headers["authorization"] == nil })
        #expect(elsewhere.requests.isEmpty)
        #expect(report.remoteError?.contains("redirected to another server") == true, "\(report.remoteError ?? "")")
    }

    // #15 item 7: no token over plain HTTP except to loopback.
    @Test func tokenIsNeverSentInClear() async throws {
        for (url, ok) in [("https://api.globalping.io/v1", true), ("http://127.0.0.1:1/v1", true), ("http://localhost:1/v1", true),
                          ("http://[::1]:1/v1", true), ("http://api.globalping.io/v1", false), ("http://10.0.0.1/v1", false),
                          ("http://127.example/v1", false)] {
            let u = try #require(URL(string: url))
            #expect((try? GlobalpingClient.checkTransport(baseURL: u, token: "t")) != nil ? ok : !ok, "\(url)")
            #expect((try? GlobalpingClient.checkTransport(baseURL: u, token: nil)) != nil)
        }
        let client = GlobalpingClient(baseURL: URL(string: "http://globalping.invalid/v1")!, token: "secret")
        let vantage = GlobalpingVantage(client: client, locations: [], probes: 1, resolver: nil)
        let round = await vantage.observeRound([try QueryTemplate(name: DomainName("example.com"), type: .a)])
        #expect(round.error?.description.contains("plain HTTP") == true, "\(round.error.map { "\($0)" } ?? "")")
    }

    // #19 finding 6: what a 429 says depends on what ran out.
    @Test func rateLimitMessagesSayWhatRanOut() async throws {
        let credits = try TestHTTPServer { r in
            r.path.hasSuffix("/limits") ? .init(status: 200, body: #"{"rateLimit":{"measurements":{"create":{"type":"user","limit":500,"remaining":0,"reset":600}}},"credits":{"remaining":0}}"#)
                : .init(status: 429, headers: ["X-RateLimit-Reset": "600", "X-RateLimit-Remaining": "0", "X-Request-Cost": "10", "X-Credits-Remaining": "0"],
                        body: #"{"error":{"type":"insufficient_credits","message":"Not enough credits to run this measurement."}}"#)
        }
        defer { credits.stop() }
        let r1 = await t.run(try plan(credits, token: "secret"))
        let e1 = try #require(r1.remoteError)
        #expect(e1.contains("not enough credits") && e1.contains("resets in 10 min"), "\(e1)")
        #expect(!e1.contains("GLOBALPING_TOKEN"))
        let anon = try TestHTTPServer { _ in
            .init(status: 429, headers: ["X-RateLimit-Reset": "60", "X-RateLimit-Remaining": "3", "X-Request-Cost": "10"],
                  body: #"{"error":{"type":"rate_limit_exceeded","message":"This measurement exceeds the remaining hourly rate limit for your IP address."}}"#)
        }
        defer { anon.stop() }
        let e2 = try #require(await t.run(try plan(anon)).remoteError)
        #expect(e2.contains("resets in 60 s") && e2.contains("GLOBALPING_TOKEN"), "\(e2)")
    }

    // #19 finding 6: a token without an account has anonymous limits.
    @Test func tokenWithoutAccountGetsAnonymousLimits() async throws {
        let s = try GlobalpingStandIn(probes: Array(repeating: GlobalpingStandInTests.probe("DE", "EU", "Berlin", asn: 3320), count: 60))
        defer { s.stop() }
        let noUser: String? = nil
        s.tokens = ["anon": noUser, "member": "u1"]
        _ = await t.run(try t.plan(s, probes: 200, token: "anon"))
        _ = await t.run(try t.plan(s, probes: 200, token: "member"))
        #expect(!t.statuses(s).contains(400), "\(s.log)")
        #expect(s.postBodies.compactMap { $0["limit"] as? Int } == [50, 200])
        #expect(s.server.requests.filter { $0.path == "/v1/limits" }.count == 2)
    }

    // #19 finding 11 and the notes: TXT whitespace, types asked only locally.
    @Test func notesForTXTAndUnsupportedTypes() async throws {
        let s = try GlobalpingStandIn(probes: GlobalpingStandInTests.world())
        defer { s.stop() }
        let p = try t.plan(s, probes: 2, types: [.txt, .caa])
        let report = await t.run(p)
        #expect(report.verdicts.count == 2)
        let notes = p.remote!.lastNotes
        #expect(notes.contains { $0.contains("TXT values") && $0.contains("collapsed") }, "\(notes)")
        #expect(notes.contains { $0.contains("cannot ask CAA") && $0.contains("asked locally only") }, "\(notes)")
        #expect(GlobalpingVantage.probeTXTForm("\"a  b\"  \"c\"") == "\"a b\" \"c\"")
        #expect(GlobalpingVantage.remoteQuestionCount([try QueryTemplate(name: DomainName("a.example"), type: .txt),
                                                       try QueryTemplate(name: DomainName("a.example"), type: .caa)]) == 1)
    }

    // Watch: one probe set for every round, paced to stay within 250 tests an hour with defaults.
    @Test func watchRoundsStayWithinTheHourlyBudget() async throws {
        let s = try GlobalpingStandIn(probes: GlobalpingStandInTests.world())
        defer { s.stop() }
        let clock = SimulatedClock()
        s.now = { clock.seconds }
        // Defaults: 10 probes; A, AAAA, MX and the delegation's NS: 4 questions a round.
        let p = try t.plan(s, probes: 10, types: [.a, .aaaa, .mx, .ns])
        let remote = try #require(p.remote)
        remote.client.now = { Date(timeIntervalSince1970: clock.seconds) }
        var rounds = 0, waits: [String] = []
        for minute in stride(from: 0, to: 3 * 60, by: 1) {   // a round a minute for three hours
            clock.seconds = Double(minute * 60)
            switch remote.roundDecision(questions: 4, now: Date(timeIntervalSince1970: clock.seconds)) {
            case .ask:
                let report = await t.run(p)
                #expect(report.remoteError == nil, "minute \(minute): \(report.remoteError ?? "")")
                rounds += 1
            case .wait(_, let reason): waits.append(reason)
            }
        }
        #expect(!t.statuses(s).contains(429), "\(s.log.filter { $0.status == 429 })")
        #expect(rounds >= 15, "\(rounds) rounds")          // 6 an hour (4 × 10 = 40 tests of 250)
        #expect(waits.first?.contains("Globalping budget") == true)
        let ids = Set(s.postBodies.compactMap { $0["locations"] as? String })
        #expect(ids.count == 1)
        #expect(s.postBodies.filter { $0["locations"] is [Any] }.count == 1)
    }
}

final class SimulatedClock: @unchecked Sendable {   // `value` behind `lock`
    private let lock = NSLock()
    private var value = 0.0
    var seconds: Double { get { lock.withLock { value } } set { lock.withLock { value = newValue } } }
}
