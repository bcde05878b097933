import Foundation
import Testing
@testable import DNSProp

/// The real Globalping client against a local server that speaks the API as its
/// specification describes, replaying its example responses.
@Suite("Globalping vantage points", .serialized)
struct GlobalpingTests {
    // The spec's example of a finished DNS measurement (components/examples.yaml), verbatim values.
    static let finished = """
        {"id":"av5Z6kM6FXLAfKO0","type":"dns","status":"finished","createdAt":"2023-07-14T18:31:01.002Z","updatedAt":"2023-07-14T18:31:01.844Z","target":"cdn.jsdelivr.net","probesCount":1,"results":[{"probe":{"continent":"OC","region":"Australia and New Zealand","country":"AU","state":null,"city":"Sydney","asn":202422,"longitude":151.21,"latitude":-33.87,"network":"G-Core Labs S.A.","tags":["datacenter-network"],"resolvers":["8.8.8.8"]},"result":{"status":"finished","statusCodeName":"NOERROR","statusCode":0,"rawOutput":"(dig output elided)","answers":[{"name":"cdn.jsdelivr.net.","type":"CNAME","ttl":180,"class":"IN","value":"jsdelivr.map.fastly.net."},{"name":"jsdelivr.map.fastly.net.","type":"A","ttl":23,"class":"IN","value":"151.101.1.229"},{"name":"jsdelivr.map.fastly.net.","type":"A","ttl":23,"class":"IN","value":"151.101.65.229"},{"name":"jsdelivr.map.fastly.net.","type":"A","ttl":23,"class":"IN","value":"151.101.129.229"},{"name":"jsdelivr.map.fastly.net.","type":"A","ttl":23,"class":"IN","value":"151.101.193.229"}],"timings":{"total":99},"resolver":"8.8.8.8"}}]}
        """

    static let inProgress = """
        {"id":"av5Z6kM6FXLAfKO0","type":"dns","status":"in-progress","results":[{"probe":{"continent":"OC","country":"AU","city":"Sydney","asn":202422,"network":"G-Core Labs S.A.","tags":[],"resolvers":["8.8.8.8"]},"result":{"status":"in-progress","rawOutput":""}}]}
        """

    static let mixed = """
        {"id":"m2","type":"dns","status":"finished","results":[
         {"probe":{"continent":"EU","country":"DE","city":"Berlin","asn":3320,"network":"Deutsche Telekom AG","tags":["eyeball-network"],"resolvers":["private"]},
          "result":{"status":"finished","statusCodeName":"NOERROR","statusCode":0,"answers":[{"name":"cdn.jsdelivr.net.","type":"A","ttl":300,"class":"IN","value":"208.91.197.46"}],"timings":{"total":12},"resolver":"private"}},
         {"probe":{"continent":"NA","country":"US","city":"Dallas","asn":7922,"network":"Comcast","tags":[],"resolvers":["10.0.0.1"]},
          "result":{"status":"finished","statusCodeName":"NXDOMAIN","statusCode":3,"answers":[],"timings":{"total":30},"resolver":"10.0.0.1"}},
         {"probe":{"continent":"AS","country":"JP","city":"Tokyo","asn":2516,"network":"KDDI","tags":[],"resolvers":["1.1.1.1"]},
          "result":{"status":"offline","rawOutput":""}},
         {"probe":{"continent":"SA","country":"BR","city":"São Paulo","asn":28573,"network":"Claro\\u001b[2J","tags":[],"resolvers":["8.8.4.4"]},
          "result":{"status":"failed","failureSource":"resolver","rawOutput":";; connection timed out; no servers could be reached"}}]}
        """

    func plan(_ server: TestHTTPServer, token: String? = nil, probes: Int = 10, expect: [String]) throws -> PropagationCheck.Plan {
        var plan = PropagationCheck.Plan(names: [try DomainName("cdn.jsdelivr.net")], types: [.a], resolvers: [])
        plan.askLocally = false
        plan.checkDelegation = false
        plan.expectations = [.a: expect]
        let client = GlobalpingClient(baseURL: server.baseURL, token: token)
        client.pollInterval = 0.05
        // Polling gives up after pollTimeout, which counts the time a parallel run keeps this test
        // waiting behind the others (over 30 s seen under load): far more than the 60-s default.
        client.pollTimeout = 600
        plan.remote = GlobalpingVantage(client: client, locations: try GlobalpingVantage.parseLocations("AU,Europe,AS3320,eyeball,Sydney", probes: probes),
                                        probes: min(probes, client.maxProbesPerMeasurement), resolver: nil)
        return plan
    }

    func run(_ plan: PropagationCheck.Plan) async -> PropagationReport {
        let engine = QueryEngine()
        defer { engine.shutdown() }
        return await PropagationCheck(plan: plan, engine: engine).run()
    }

    @Test func finishedMeasurementBecomesVerdictRowsLabelledWithTheProbe() async throws {
        let server = try TestHTTPServer { r in
            r.method == "POST" ? .init(status: 202, headers: ["Location": "/v1/measurements/av5Z6kM6FXLAfKO0"], body: #"{"id":"av5Z6kM6FXLAfKO0","probesCount":1}"#)
                               : .init(status: 200, body: Self.finished)
        }
        defer { server.stop() }
        let report = await run(try plan(server, expect: ["151.101.1.229", "151.101.65.229", "151.101.129.229", "151.101.193.229"]))
        #expect(report.remoteError == nil)
        let v = try #require(report.verdicts.first)
        #expect(report.verdicts.count == 1)
        #expect(v.status == .current)
        #expect(v.resolver.vantage?.country == "AU")
        #expect(v.resolver.vantage?.city == "Sydney")
        #expect(v.resolver.vantage?.asn == 202422)
        #expect(v.resolver.vantage?.provider == "G-Core Labs S.A.")
        #expect(v.resolver.vantage?.resolver == "8.8.8.8")
        #expect(v.rttMs == 99)
        #expect(v.resolver.display == "AU Sydney AS202422")
        // The probe's own coordinates place it on maps, not Australia's label point.
        #expect(Coordinates.of(v.resolver) == GeoCoordinate(lat: -33.87, lon: 151.21, precision: .exact))
        // The request asked the spec's way.
        let post = try #require(server.requests.first { $0.method == "POST" })
        let body = try #require(try JSONSerialization.jsonObject(with: post.body) as? [String: Any])
        #expect(body["type"] as? String == "dns")
        #expect(body["target"] as? String == "cdn.jsdelivr.net")
        #expect((body["measurementOptions"] as? [String: Any]).flatMap { ($0["query"] as? [String: Any])?["type"] as? String } == "A")
        let locations = try #require(body["locations"] as? [[String: Any]])
        #expect(locations.count == 5)
        #expect(locations[0]["country"] as? String == "AU")
        #expect(locations[1]["continent"] as? String == "EU")
        #expect(locations[2]["asn"] as? Int == 3320)
        #expect(locations[3]["tags"] as? [String] == ["eyeball-network"])
        #expect(locations[4]["magic"] as? String == "Sydney")
        #expect(post.headers["authorization"] == nil)
        // The JSON row carries the probe's labels.
        let json = CheckReportJSON.document(report, outcome: report.outcome(minCurrent: nil)).serialized()
        #expect(json.contains(#""vantage":{"network":"globalping","asn":202422"#))
    }

    @Test func pollsUntilFinishedWithETags() async throws {
        let polls = Counter()
        let server = try TestHTTPServer { r in
            if r.method == "POST" { return .init(status: 202, body: #"{"id":"av5Z6kM6FXLAfKO0","probesCount":1}"#) }
            switch polls.next() {
            case 0: return .init(status: 200, headers: ["ETag": "\"v1\""], body: Self.inProgress)
            case 1: return .init(status: 304, headers: ["ETag": "\"v1\""])
            default: return .init(status: 200, headers: ["ETag": "\"v2\""], body: Self.finished)
            }
        }
        defer { server.stop() }
        let report = await run(try plan(server, expect: ["151.101.1.229", "151.101.65.229", "151.101.129.229", "151.101.193.229"]))
        #expect(report.verdicts.first?.status == .current)
        let gets = server.requests.filter { $0.method == "GET" }
        #expect(gets.count == 3)
        #expect(gets[0].path == "/v1/measurements/av5Z6kM6FXLAfKO0")
        #expect(gets[0].headers["if-none-match"] == nil)
        #expect(gets[1].headers["if-none-match"] == "\"v1\"")
        #expect(gets[2].headers["if-none-match"] == "\"v1\"")
    }

    @Test func failedOfflinePrivateAndParkedProbes() async throws {
        let server = try TestHTTPServer { r in
            r.method == "POST" ? .init(status: 202, body: #"{"id":"m2","probesCount":4}"#) : .init(status: 200, body: Self.mixed)
        }
        defer { server.stop() }
        let p = try plan(server, expect: ["151.101.1.229"])
        let report = await run(p)
        let byCountry = Dictionary(uniqueKeysWithValues: report.verdicts.map { ($0.resolver.vantage?.country ?? "?", $0) })
        // Probes give only the answer section: say what that leaves out.
        #expect(p.remote?.lastNotes.contains { $0.contains("negative-cache times") } == true)
        #expect(byCountry["DE"]?.status == .parked)
        #expect(byCountry["DE"]?.resolver.vantage?.resolver == "private")
        #expect(byCountry["DE"]?.expiresAt != nil)
        #expect(byCountry["US"]?.status == .nxdomain)
        #expect(byCountry["JP"]?.status == .error)
        #expect(byCountry["JP"]?.reason.contains("offline") == true)
        // failureSource, not rawOutput, says what failed (spec: rawOutput is not for parsing).
        #expect(byCountry["BR"]?.status == .error)
        #expect(byCountry["BR"]?.reason.contains("resolver") == true)
        #expect(report.summary.exitStatus(minCurrent: nil) == 1)
        let table = CheckReportTable(colour: false).render(report)
        #expect(!table.contains("\u{1B}"))
        #expect(table.contains("DE Berlin AS3320"))
    }

    @Test func rateLimitAndNoProbesGiveClearMessagesWithoutRetrying() async throws {
        let limited = try TestHTTPServer { _ in
            // rate-limiter-post.ts: a POST 429 carries X-RateLimit-*, not Retry-After.
            .init(status: 429, headers: ["X-RateLimit-Reset": "1800", "X-RateLimit-Remaining": "4", "X-RateLimit-Limit": "250",
                                         "X-RateLimit-Consumed": "0", "X-Request-Cost": "10"],
                  body: #"{"error":{"type":"rate_limit_exceeded","message":"This measurement exceeds the remaining hourly rate limit for your IP address."}}"#)
        }
        defer { limited.stop() }
        let r1 = await run(try plan(limited, expect: ["192.0.2.1"]))
        #expect(r1.remoteError?.contains("rate limit") == true)
        #expect(r1.remoteError?.contains("resets in 30 min") == true, "\(r1.remoteError ?? "")")
        #expect(r1.remoteError?.contains("needs 10, 4 left") == true, "\(r1.remoteError ?? "")")
        #expect(limited.requests.count == 1)
        #expect(r1.summary.exitStatus(minCurrent: nil) == 2)

        let none = try TestHTTPServer { _ in
            .init(status: 422, body: #"{"error":{"type":"no_probes_found","message":"No suitable probes found."}}"#)
        }
        defer { none.stop() }
        let r2 = await run(try plan(none, expect: ["192.0.2.1"]))
        #expect(r2.remoteError?.contains("found no probes") == true)
        #expect(r2.remoteError?.contains("No suitable probes found.") == true)
        #expect(none.requests.count == 1)
    }

    @Test func limitsAreKeptByTheClientAndATokenRaisesThem() async throws {
        let server = try TestHTTPServer { r in
            r.method == "POST" ? .init(status: 202, body: #"{"id":"x","probesCount":1}"#) : .init(status: 200, body: Self.finished)
        }
        defer { server.stop() }
        _ = await run(try plan(server, probes: 200, expect: ["192.0.2.1"]))
        _ = await run(try plan(server, token: "secret", probes: 200, expect: ["192.0.2.1"]))
        let posts = server.requests.filter { $0.method == "POST" }
        let limits = posts.compactMap { (try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any])?["limit"] as? Int }
        #expect(limits == [50, 200])
        #expect(posts[0].headers["authorization"] == nil)
        #expect(posts[1].headers["authorization"] == "Bearer secret")
    }

    @Test func laterRoundsReuseTheFirstMeasurementsProbes() async throws {
        let server = try TestHTTPServer { r in
            r.method == "POST" ? .init(status: 202, body: #"{"id":"firstid","probesCount":1}"#) : .init(status: 200, body: Self.finished)
        }
        defer { server.stop() }
        let plan = try plan(server, expect: ["192.0.2.1"])
        _ = await run(plan)
        _ = await run(plan)
        let posts = server.requests.filter { $0.method == "POST" }
        #expect(posts.count == 2)
        let second = try #require(try JSONSerialization.jsonObject(with: posts[1].body) as? [String: Any])
        #expect(second["locations"] as? String == "firstid")
    }

    @Test func locationSpecs() throws {
        let l = try GlobalpingVantage.parseLocations("de, South America ,AS15169,datacenter,Sydney", probes: 10)
        #expect(l.map(\.country) == ["DE", nil, nil, nil, nil])
        #expect(l[1].continent == "SA")
        #expect(l[2].asn == 15169)
        #expect(l[3].tags == ["datacenter-network"])
        #expect(l[4].magic == "Sydney")
        #expect(throws: (any Error).self) { try GlobalpingVantage.parseLocations("XX", probes: 10) }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { defer { value += 1 }; return value } }
}

@Suite("check --from globalping", .serialized)
struct GlobalpingCommandTests {
    @Test func commandLineUsesTheRealClient() async throws {
        let server = try TestHTTPServer { r in
            r.method == "POST" ? .init(status: 202, body: #"{"id":"av5Z6kM6FXLAfKO0","probesCount":1}"#)
                               : .init(status: 200, body: GlobalpingTests.finished)
        }
        defer { server.stop() }
        let ips = ["151.101.1.229", "151.101.65.229", "151.101.129.229", "151.101.193.229"]
        let run = try await ToolRun.run(["check", "cdn.jsdelivr.net", "--from", "globalping", "--globalping-url", server.baseURL.absoluteString,
                                   "--locations", "AU", "--probes", "80", "--no-delegation", "--format", "json", "--verbose"]
                                  + ips.flatMap { ["--expect", "A=\($0)"] }, environment: ["GLOBALPING_TOKEN": ""])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("over Globalping's limit of 50 without a token; asking 50"))
        #expect(run.stderr.contains("Globalping budget"))
        let results = try #require(try run.json()["results"] as? [[String: Any]])
        #expect(results.count == 1)
        let resolver = try #require(results.first?["resolver"] as? [String: Any])
        #expect(resolver["address"] as? String == "8.8.8.8")
        #expect((resolver["vantage"] as? [String: Any])?["asn"] as? Int == 202422)
    }

    @Test func badOptionsAreUsageErrors() async throws {
        for (args, needle) in [(["--from", "mars"], "--from takes"), (["--from", "globalping", "--probes", "0"], "--probes"),
                               (["--from", "globalping", "--globalping-url", "ftp://x"], "not an http(s) URL"),
                               (["--from", "globalping", "--locations", "XX"], "not an ISO country code")] {
            let run = try await ToolRun.run(["check", "example.com"] + args)
            #expect(run.status == 64, "\(args)")
            #expect(run.stderr.contains(needle), "\(args): \(run.stderr)")
        }
    }
}
