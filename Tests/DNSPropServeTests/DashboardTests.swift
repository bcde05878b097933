import Testing
import Foundation
@testable import DNSProp
@testable import DNSPropServe

/// A watch of victim.com A with three resolvers, one answering with hostile network text.
enum Fixture {
    static let name = try! DomainName("victim.com")
    static let question = CheckQuestion(name: name, type: .a)
    static let hostileAnswer = "\"<script>alert('txt')</script>\" \"x\\\" onmouseover=\\\"alert(2)\""
    static let hostileReason = "answered </td><img src=x onerror=alert(3)> & more"
    static let good = Resolver(address: ServerAddress(ip: IPAddress("192.0.2.1")!), operatorName: "Good DNS", countryCode: "DE", location: "Berlin")
    static let stale = Resolver(address: ServerAddress(ip: IPAddress("192.0.2.2")!), operatorName: "Evil \"op\"\nX{}", countryCode: "US")
    static let quiet = Resolver(address: ServerAddress(ip: IPAddress("2001:db8::3")!), operatorName: nil, countryCode: nil)

    static func report(at: Double, staleStatus: VerdictStatus = .stale) -> PropagationReport {
        let verdicts = [
            Verdict(resolver: good, question: question, status: .current, reason: "matches the truth", answers: ["192.0.2.10"],
                    ttl: 300, expiresAt: at + 300, rttMs: 12, checkedAt: at),
            Verdict(resolver: stale, question: question, status: staleStatus, reason: hostileReason, answers: [hostileAnswer],
                    ttl: 120, expiresAt: at + 120, rttMs: 340, checkedAt: at, latestAt: at + 600, latestBasis: "ceiling"),
            Verdict(resolver: quiet, question: question, status: .timeout, reason: "no answer", checkedAt: at),
        ]
        let truth = Truth(name: name, type: .a, answer: .data([]), source: .expected, notes: [], failure: nil)
        return PropagationReport(startedAt: at - 2, finishedAt: at, names: [name],
                                 questions: [QuestionReport(question: question, truth: truth, verdicts: verdicts)], resolverCount: 3)
    }

    /// A dashboard after one round at `at`.
    static func dashboard(at: Double = 1_800_000_000) -> Dashboard {
        let d = Dashboard(names: [name], interval: 30, minCurrent: nil, started: at - 10)
        var state = WatchState(started: at - 10)
        let r = report(at: at)
        state.update(with: r)
        d.finishRound(number: 1, report: state.lastReport!, state: state, outcome: state.lastReport!.outcome(minCurrent: nil))
        return d
    }
}

/// Parses the Prometheus text format back: `name{labels}` → value, and the TYPE of each family.
struct Exposition {
    var samples: [String: Double] = [:]
    var types: [String: String] = [:]

    init(_ text: String) throws {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            // The value is after the last space outside the braces.
            guard let space = line.lastIndex(of: " ") else { throw Bad(line: String(line)) }
            let key = String(line[..<space])
            guard let value = Double(line[line.index(after: space)...]) else { throw Bad(line: String(line)) }
            samples[key] = value
        }
    }
    struct Bad: Error { var line: String }
}

@Suite struct DashboardMetricsTests {
    @Test func countsStatusesAndResolversParseBack() throws {
        let at = 1_800_000_000.0
        let d = Fixture.dashboard(at: at)
        let text = DashboardMetrics.render(d, now: at + 20)
        let m = try Exposition(text)
        #expect(m.samples["dnsprop_round"] == 1)
        #expect(m.samples["dnsprop_resolvers{status=\"current\"}"] == 1)
        #expect(m.samples["dnsprop_resolvers{status=\"stale\"}"] == 1)
        #expect(m.samples["dnsprop_resolvers{status=\"timeout\"}"] == 1)
        #expect(m.samples["dnsprop_resolvers{status=\"parked\"}"] == 0)
        #expect(m.samples["dnsprop_results{status=\"stale\"}"] == 1)
        #expect(m.samples["dnsprop_converged"] == 0)
        #expect(m.samples["dnsprop_outcome{outcome=\"notConverged\"}"] == 1)
        #expect(m.samples["dnsprop_round_duration_seconds"] == 2)
        // One answering result in two current.
        #expect(m.samples["dnsprop_current_ratio"] == 0.5)
        // The per-resolver state set: one 1 per resolver, the rest 0.
        #expect(m.samples["dnsprop_resolver_status{resolver=\"192.0.2.2\",status=\"stale\"}"] == 1)
        #expect(m.samples["dnsprop_resolver_status{resolver=\"192.0.2.2\",status=\"current\"}"] == 0)
        #expect(m.samples["dnsprop_resolver_status{resolver=\"2001:db8::3\",status=\"timeout\"}"] == 1)
        let ones = m.samples.filter { $0.key.hasPrefix("dnsprop_resolver_status{") && $0.value == 1 }
        #expect(ones.count == 3)
        // Countdown from `now`: expires 120 s after the round, scraped 20 s after it.
        #expect(m.samples["dnsprop_result_expiry_seconds{resolver=\"192.0.2.2\",name=\"victim.com.\",type=\"A\",check=\"record\"}"] == 100)
        #expect(m.samples["dnsprop_result_latest_expiry_seconds{resolver=\"192.0.2.2\",name=\"victim.com.\",type=\"A\",check=\"record\"}"] == 580)
        #expect(m.samples["dnsprop_expected_convergence_seconds"] == 100)
        // The latency histogram: two answers (12 ms and 340 ms), the timeout has no RTT.
        #expect(m.types["dnsprop_query_latency_seconds"] == "histogram")
        #expect(m.samples["dnsprop_query_latency_seconds_count"] == 2)
        #expect(m.samples["dnsprop_query_latency_seconds_bucket{le=\"0.025\"}"] == 1)
        #expect(m.samples["dnsprop_query_latency_seconds_bucket{le=\"0.5\"}"] == 2)
        #expect(abs((m.samples["dnsprop_query_latency_seconds_sum"] ?? 0) - 0.352) < 1e-9)
        #expect(m.types["dnsprop_resolvers"] == "gauge")
    }

    @Test func labelValuesAreEscapedAndNeverNetworkText() throws {
        let d = Fixture.dashboard()
        let text = DashboardMetrics.render(d, now: 1_800_000_000)
        // The operator name (from the list) with a quote and a line feed is escaped, not cut into a new line.
        #expect(text.contains(#"operator="Evil \"op\"\nX{}""#))
        #expect(!text.contains("\nX{}"))
        // What the resolver answered or why it was judged never appears.
        #expect(!text.contains("script"))
        #expect(!text.contains("onerror"))
        #expect(try Exposition(text).samples.count > 20)
    }

    @Test func beforeTheFirstRoundOnlyTheRoundGauges() throws {
        let d = Dashboard(names: [Fixture.name], interval: 30, minCurrent: nil, started: 100)
        d.take(.roundStarted(number: 1))
        let m = try Exposition(DashboardMetrics.render(d, now: 101))
        #expect(m.samples["dnsprop_round"] == 0)
        #expect(m.samples["dnsprop_round_in_progress"] == 1)
        #expect(m.samples["dnsprop_converged"] == nil)
    }

    @Test func globalpingBudgetWhenUsed() throws {
        let d = Dashboard(names: [Fixture.name], interval: 30, minCurrent: nil, started: 100,
                          budget: { Dashboard.Budget(rateLimitRemaining: 217, creditsRemaining: nil) })
        d.take(.roundStarted(number: 1))
        let m = try Exposition(DashboardMetrics.render(d, now: 101))
        #expect(m.samples["dnsprop_globalping_rate_limit_remaining"] == 217)
        #expect(m.samples["dnsprop_globalping_credits_remaining"] == nil)
    }
}

@Suite struct StatusPageTests {
    static let page = StatusPage(mapData: StatusPageMap.data)

    @Test func hostileTextIsEscapedEverywhere() {
        let html = Self.page.page(Fixture.dashboard().snapshot, now: 1_800_000_000)
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("onmouseover=\""))
        #expect(!html.contains("onmouseover=\\\""))
        #expect(html.contains("&lt;script&gt;alert(&#39;txt&#39;)&lt;/script&gt;"))
        #expect(html.contains("&lt;/td&gt;&lt;img src=x onerror=alert(3)&gt; &amp; more"))
        // The one script is the page's own, from the same server.
        #expect(html.components(separatedBy: "<script").count == 2)
        #expect(html.contains("<script src=\"/app.js\" defer></script>"))
        // No resource from elsewhere.
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"))
    }

    @Test func oneRowPerResolverWorstFirst() {
        let html = Self.page.live(Fixture.dashboard().snapshot, now: 1_800_000_000)
        let rows = html.components(separatedBy: "<tr class=\"st-").dropFirst().map { $0.prefix(while: { $0 != "\"" && $0 != " " }) }
        #expect(rows == ["stale", "timeout", "current"])
        #expect(html.contains("data-resolver=\"2001:db8::3\""))
        #expect(html.contains("1 of 3 resolvers current"))
        #expect(html.contains("Expected convergence"))
    }

    @Test func escapeCoversEveryMarkupCharacter() {
        #expect(HTMLText.escape("<a href='x' title=\"y\">&`</a>\u{7}") == "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;&#96;&lt;/a&gt;\\x07")
        // Bidi overrides (Trojan Source) and zero-width characters are made visible, as on a terminal.
        #expect(HTMLText.escape("a\u{202E}b\u{200B}c") == "a\\u{202E}b\\u{200B}c")
    }
}

@Suite struct DashboardRoutesTests {
    static let routes = DashboardRoutes(dashboard: Fixture.dashboard(), page: StatusPage(mapData: StatusPageMap.data))

    @Test func statusJSONIsTheCheckDocument() throws {
        let r = Self.routes.respond(method: "GET", uri: "/status.json", now: 1_800_000_000)
        #expect(r.status == 200 && r.contentType == "application/json")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        #expect(doc["schemaVersion"] as? Int == CheckReportJSON.schemaVersion)
        let results = try #require(doc["results"] as? [[String: Any]])
        #expect(results.count == 3)
        #expect(results.contains { $0["answers"] as? [String] == [Fixture.hostileAnswer] })
        let summary = try #require(doc["summary"] as? [String: Any])
        #expect(summary["outcome"] as? String == "notConverged")
    }

    @Test func onlyGetAndHeadOnKnownPaths() {
        #expect(Self.routes.respond(method: "GET", uri: "/nope", now: 0).status == 404)
        #expect(Self.routes.respond(method: "GET", uri: "/metrics?x=1", now: 0).status == 200)
        #expect(Self.routes.respond(method: "HEAD", uri: "/", now: 0).status == 200)
        let post = Self.routes.respond(method: "POST", uri: "/metrics", now: 0)
        #expect(post.status == 405 && post.headers.contains { $0 == ("Allow", "GET, HEAD") })
        #expect(Self.routes.respond(method: "DELETE", uri: "/", now: 0).status == 405)
    }

    @Test func statusJSONBeforeTheFirstRound() {
        let routes = DashboardRoutes(dashboard: Dashboard(names: [Fixture.name], interval: 30, minCurrent: nil, started: 0),
                                     page: StatusPage(mapData: StatusPageMap.data))
        #expect(routes.respond(method: "GET", uri: "/status.json", now: 0).status == 503)
        #expect(routes.respond(method: "GET", uri: "/", now: 0).status == 200)
    }
}

@Suite struct ListenAddressTests {
    @Test func forms() throws {
        #expect(try ListenAddress(parsing: "9100") == ListenAddress(host: "127.0.0.1", port: 9100))
        #expect(try ListenAddress(parsing: ":9100") == ListenAddress(host: "127.0.0.1", port: 9100))
        #expect(try ListenAddress(parsing: "0.0.0.0:80") == ListenAddress(host: "0.0.0.0", port: 80))
        #expect(try ListenAddress(parsing: "[::1]:9100") == ListenAddress(host: "::1", port: 9100))
        #expect(try ListenAddress(parsing: "[::1]:9100").description == "[::1]:9100")
        for bad in ["", "::1:80", "localhost:80", "127.0.0.1:", "127.0.0.1:65536", "[::1]", "[127.0.0.1]:80", "1.2.3.4:-1", "80 "] {
            #expect(throws: ListenAddress.Invalid.self, "\(bad)") { try ListenAddress(parsing: bad) }
        }
    }
}

@Suite struct WorldMapTests {
    @Test func resolversPlacedByCountryAndColouredByStatus() {
        let snapshot = Fixture.dashboard().snapshot
        let map = WorldMapSVG(data: StatusPageMap.data)
        let (placed, unplaced) = map.markers(snapshot.state.resolverRows())
        #expect(placed.count == 2 && unplaced.map(\.resolver.address.description) == ["2001:db8::3"])
        // Germany is east of and north of the USA's point; both inside the drawing.
        let de = placed.first { $0.row.resolver.countryCode == "DE" }!, us = placed.first { $0.row.resolver.countryCode == "US" }!
        #expect(de.x > us.x && de.y < WorldMapSVG.height && de.x > 360 && us.x < 360)
        let svg = map.svg(snapshot.state.resolverRows(), landPath: map.landPath())
        #expect(svg.contains("class=\"dot st-stale\"") && svg.contains("class=\"dot st-current\""))
        #expect(svg.contains("<path class=\"land\" d=\"M"))
        // The operator's name with markup is escaped in the marker's title.
        #expect(svg.contains("Evil &quot;op&quot;") && !svg.contains("Evil \"op\""))
    }

    @Test func resolversAtOnePointAreSpread() {
        let data = WorldMapSVG.Data(columns: 0, rows: 0, isLand: { _, _ in false }, locate: { _ in (lat: 50, lon: 10) })
        let snapshot = Fixture.dashboard().snapshot
        let placed = WorldMapSVG(data: data).markers(snapshot.state.resolverRows()).placed
        #expect(placed.count == 3)
        #expect(Set(placed.map { "\($0.x),\($0.y)" }).count == 3)
    }
}
