import Foundation
import Testing
@testable import DNSProp

/// The registry side: Public Suffix List, RDAP bootstrap, RDAP documents (hostile ones too),
/// the RFC 8056 status mapping, the redirect policy, the RDAP client over HTTP, and the diagnosis.
@Suite("Registry and diagnosis", .serialized)
struct RegistryTests {
    static func root() -> URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
    static func name(_ s: String) -> DomainName { try! DomainName(s) }

    // MARK: Public Suffix List

    @Test func bundledCopiesMatchTheirFiles() throws {
        let psl = try String(contentsOf: Self.root().appendingPathComponent("data/public_suffix_list.dat"), encoding: .utf8)
        #expect(BundledPublicSuffixList.text == psl, "run Scripts/sync-registry-data after editing data/public_suffix_list.dat")
        let dns = try String(contentsOf: Self.root().appendingPathComponent("data/rdap-dns.json"), encoding: .utf8)
        #expect(BundledRDAPBootstrap.text == dns, "run Scripts/sync-registry-data after editing data/rdap-dns.json")
        #expect(PublicSuffixList.bundled.ruleCount > 9000)
        #expect(RDAPBootstrap.bundled.serviceCount > 1000)
        #expect(RDAPBootstrap.bundled.publication == "2026-01-30T00:00:01Z")
    }

    @Test func registrableDomainsFromTheBundledList() {
        let psl = PublicSuffixList.bundled
        func r(_ s: String) -> String? { psl.registrableDomain(of: Self.name(s))?.text }
        #expect(r("www.victim.com") == "victim.com.")
        #expect(r("victim.com") == "victim.com.")
        #expect(r("com") == nil)
        #expect(r("a.b.example.co.uk") == "example.co.uk.")
        #expect(r("co.uk") == nil)
        // Wildcard `*.ck` with the exception `!www.ck`.
        #expect(r("foo.bar.ck") == "foo.bar.ck.")
        #expect(r("bar.ck") == nil)
        #expect(r("www.ck") == "www.ck.")
        #expect(r("x.www.ck") == "www.ck.")
        // IDN rules are written as U-labels; names arrive as A-labels (公司.cn).
        #expect(r("shop.example.公司.cn") == "example.xn--55qx5d.cn.")
        // A TLD the list does not know: the implicit "*" rule.
        #expect(r("a.b.unknowntld") == "b.unknowntld.")
        // The private section counts only when asked for: the registry registered github.io.
        #expect(r("someone.github.io") == "github.io.")
        #expect(psl.registrableDomain(of: Self.name("someone.github.io"), sections: [.icann, .private])?.text == "someone.github.io.")
    }

    @Test func parsesRulesAsTheFormatSays() {
        let psl = PublicSuffixList(text: """
            // ===BEGIN ICANN DOMAINS===
            tld
            *.wild.tld
            !except.wild.tld
            trailing.tld some text after white space
            // ===END ICANN DOMAINS===
            // ===BEGIN PRIVATE DOMAINS===
            hosted.tld
            // ===END PRIVATE DOMAINS===
            """)
        func r(_ s: String, _ sections: Set<PublicSuffixList.Section> = [.icann]) -> String? { psl.registrableDomain(of: Self.name(s), sections: sections)?.text }
        #expect(psl.ruleCount == 5)
        #expect(r("a.b.wild.tld") == "a.b.wild.tld.")
        #expect(r("x.except.wild.tld") == "except.wild.tld.")
        #expect(r("a.trailing.tld") == "a.trailing.tld.")
        #expect(r("a.hosted.tld") == "hosted.tld.")
        #expect(r("a.hosted.tld", [.icann, .private]) == "a.hosted.tld.")
    }

    /// The byte-level parser against the plain one it replaced (String operations, kept here
    /// as the reference), on the whole bundled list and on awkward lines.
    @Test func byteParserAgreesWithTheReferenceParser() {
        func reference(_ text: String) -> [String: [PublicSuffixList.Rule]] {
            var section: PublicSuffixList.Section? = nil
            var byTLD: [String: [PublicSuffixList.Rule]] = [:]
            // (The old parser split at "\n" and "\r" Characters, which missed CRLF: "\r\n" is one Character.)
            for raw in text.split(whereSeparator: \.isNewline) {
                let line = raw.trimmingSpaces
                if line.hasPrefix("//") {
                    if line.contains("===BEGIN ICANN DOMAINS===") { section = .icann }
                    else if line.contains("===BEGIN PRIVATE DOMAINS===") { section = .private }
                    else if line.contains("===END ") { section = nil }
                    continue
                }
                guard let word = line.split(separator: " ", maxSplits: 1).first.map(String.init), !word.isEmpty else { continue }
                var body = word
                let exception = body.hasPrefix("!")
                if exception { body.removeFirst() }
                var labels: [String] = []
                for label in body.split(separator: ".", omittingEmptySubsequences: false) {
                    if label == "*" { labels.append("*"); continue }
                    guard let name = DomainName(presentation: String(label)), name.labels.count == 1 else { labels = []; break }
                    labels.append(String(name.labels[0]).lowercased())
                }
                guard !labels.isEmpty, !labels.contains(where: \.isEmpty) else { continue }
                let rule = PublicSuffixList.Rule(labels: labels.reversed(), exception: exception, section: section ?? .icann)
                byTLD[rule.labels[0], default: []].append(rule)
            }
            return byTLD
        }
        let awkward = """
              // ===BEGIN ICANN DOMAINS===
            \tTLD\r
            *.Wild.tld trailing words
            !except.wild.tld
            a..b
            .lead
            trail.
            !
            bücher.example
            // ===END ICANN DOMAINS===
            // ===BEGIN PRIVATE DOMAINS===
            Hosted.TLD
            """
        for text in [BundledPublicSuffixList.text, awkward] {
            let fast = PublicSuffixList(text: text)
            let slow = reference(text)
            #expect(fast.rules == slow)
            #expect(fast.ruleCount == slow.values.reduce(0) { $0 + $1.count })
        }
        #expect(PublicSuffixList(text: awkward).ruleCount == 5)
    }

    /// A look-up takes apart only its TLD's lines (an ASCII TLD) or the whole list (`xn--…`):
    /// either way the rules are those of the whole list parsed at once.
    @Test func aTLDsRulesAreThoseOfTheWholeList() {
        let whole = PublicSuffixList(text: BundledPublicSuffixList.text).rules
        let plain = whole.keys.filter { !$0.hasPrefix("xn--") }.sorted()
        let idn = whole.keys.filter { $0.hasPrefix("xn--") }.sorted()
        #expect(plain.count > 1000 && idn.count > 100)
        // Every 5th ASCII TLD, and those with U-labels below them or with many rules.
        let chosen = plain.enumerated().filter { $0.offset % 5 == 0 }.map(\.element)
            + ["jp", "kr", "hk", "com", "uk", "no", "it", "ck", "er"]
        let lazy = PublicSuffixList(text: BundledPublicSuffixList.text)
        for tld in chosen { #expect(lazy.rules(forTLD: tld) == whole[tld] ?? [], "\(tld)") }
        #expect(lazy.rules(forTLD: "no-such-tld").isEmpty)
        #expect(lazy.rules(forTLD: "JP").isEmpty)   // callers lower-case first
        for tld in idn { #expect(lazy.rules(forTLD: tld) == whole[tld], "\(tld)") }
        // After the whole list, ASCII TLDs are read from it.
        #expect(lazy.rules(forTLD: "jp") == whole["jp"])
        let name = Self.name("a.b.kawasaki.jp"), mixed = Self.name("x.\u{5927}\u{962A}.jp")
        let fresh = PublicSuffixList(text: BundledPublicSuffixList.text)
        #expect(fresh.registrableDomain(of: name) == lazy.registrableDomain(of: name))
        #expect(fresh.registrableDomain(of: mixed) == lazy.registrableDomain(of: mixed))
    }

    // MARK: Bootstrap

    @Test func bootstrapFindsTheLongestMatchAndPrefersHTTPS() throws {
        #expect(RDAPBootstrap.bundled.baseURLs(for: Self.name("victim.com")).first?.absoluteString == "https://rdap.verisign.com/com/v1/")
        let b = try RDAPBootstrap(json: Data("""
            {"version":"1.0","publication":"2026-01-01T00:00:00Z","services":[
              [["example"],["http://plain.example/rdap/","https://secure.example/rdap/"]],
              [["sub.example"],["https://sub.example/rdap/"]],
              [["bad"],["ftp://nope/"]]]}
            """.utf8))
        #expect(b.baseURLs(for: Self.name("a.example")).map(\.absoluteString) == ["https://secure.example/rdap/", "http://plain.example/rdap/"])
        #expect(b.baseURLs(for: Self.name("x.sub.example")).first?.absoluteString == "https://sub.example/rdap/")
        #expect(b.baseURLs(for: Self.name("a.bad")).isEmpty)
        #expect(b.baseURLs(for: Self.name("a.org")).isEmpty)
        #expect(throws: RDAPBootstrap.ParseError.self) { try RDAPBootstrap(json: Data("[1]".utf8)) }
        #expect(throws: RDAPBootstrap.ParseError.self) { try RDAPBootstrap(json: Data(#"{"services":[["com"]]}"#.utf8)) }
        #expect(RDAPClient.domainURL(base: URL(string: "https://r.example/v1")!, domain: Self.name("Victim.COM"))?.absoluteString
                == "https://r.example/v1/domain/victim.com")
    }

    // MARK: RFC 8056

    @Test func statusesMapBothWaysAsRFC8056Says() {
        #expect(EPPStatus(rdap: "client hold").name == "clientHold")
        #expect(EPPStatus(rdap: "Client Hold").name == "clientHold")
        #expect(EPPStatus(rdap: "clientHold").name == "clientHold")
        #expect(EPPStatus(rdap: "active").name == "ok")
        #expect(EPPStatus(rdap: "associated").name == "linked")
        #expect(EPPStatus(rdap: "auto renew period").isRenewal)
        #expect(EPPStatus(rdap: "redemption period").isRedemption)
        #expect(EPPStatus(rdap: "server hold").isHold)
        #expect(EPPStatus(epp: "clientTransferProhibited").rdapName == "client transfer prohibited")
        let odd = EPPStatus(rdap: "frozen by court order")
        #expect(!odd.isKnown && odd.name == "frozen by court order" && !odd.isHold)
    }

    // MARK: RDAP documents

    static let nomulusShaped = """
        {"rdapConformance":["rdap_level_0"],"objectClassName":"domain","handle":"28-LOL","ldhName":"AUTORENEW.LOL",
         "status":["active","auto renew period"],
         "entities":[{"objectClassName":"entity","handle":"1","roles":["registrar"],
                      "publicIds":[{"identifier":"1","type":"IANA Registrar ID"}],
                      "vcardArray":["vcard",[["version",{},"text","4.0"],["fn",{},"text","The Registrar"]]]},
                     {"objectClassName":"entity","roles":["registrant"],"vcardArray":["vcard",[["fn",{},"text",""]]]}],
         "events":[{"eventAction":"registration","eventDate":"1998-12-31T00:00:00.000Z"},
                   {"eventAction":"expiration","eventDate":"2000-12-31T00:00:00.000Z"},
                   {"eventAction":"last update of RDAP database","eventDate":"2000-01-01T00:00:00.000Z"},
                   {"eventAction":"last changed","eventDate":"1999-12-31T00:00:00+01:00"}],
         "nameservers":[{"objectClassName":"nameserver","ldhName":"NS1.CAT.LOL"},{"objectClassName":"nameserver","unicodeName":"ns2.cat.lol."}]}
        """

    @Test func readsARegistryDocument() throws {
        let r = try RDAPDomainParser.parse(Data(Self.nomulusShaped.utf8))
        #expect(r.ldhName == "autorenew.lol")
        #expect(r.statuses.map(\.name) == ["ok", "autoRenewPeriod"])
        #expect(r.renewal?.name == "autoRenewPeriod" && r.hold == nil)
        #expect(r.registrar == "The Registrar" && r.registrarIANAID == "1")
        #expect(r.nameservers == ["ns1.cat.lol.", "ns2.cat.lol."])
        #expect(r.registration == 915_062_400)
        #expect(r.expiration == 978_220_800)
        #expect(r.lastChanged == 946_594_800)        // 1999-12-31T00:00+01:00 = 1999-12-30T23:00Z
    }

    @Test func rfc3339Dates() {
        #expect(RFC3339.parse("1970-01-01T00:00:00Z") == 0)
        #expect(RFC3339.parse("2027-07-24T14:02:00Z") == 1_816_437_720)
        #expect(RFC3339.parse("2027-07-24T14:02:00.500Z") == 1_816_437_720.5)
        #expect(RFC3339.parse("2027-07-24T16:02:00+02:00") == 1_816_437_720)
        for bad in ["2027-07-24", "2027-13-01T00:00:00Z", "2027-07-24T14:02:00", "yesterday", "2027-07-24T14:02:00Zjunk", ""] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func hostileDocumentsAreRejectedOrDefused() throws {
        // Huge: over the cap, refused before parsing.
        let huge = Data(#"{"objectClassName":"domain","x":""#.utf8) + Data(repeating: UInt8(ascii: "a"), count: RDAPDomainParser.maxBytes) + Data(#""}"#.utf8)
        #expect(throws: RDAPDomainParser.Failure.tooLarge(RDAPDomainParser.maxBytes)) { try RDAPDomainParser.parse(huge) }
        // Deeply nested: refused by the pre-scan (no parser recursion).
        let deep = Data(#"{"x":"#.utf8) + Data(repeating: UInt8(ascii: "["), count: 100_000) + Data(repeating: UInt8(ascii: "]"), count: 100_000) + Data("}".utf8)
        #expect(throws: RDAPDomainParser.Failure.tooDeep(RDAPDomainParser.maxDepth)) { try RDAPDomainParser.parse(deep) }
        // Brackets inside strings do not count as nesting.
        let quoted = #"{"objectClassName":"domain","ldhName":"a.example","remark":"\#(String(repeating: "[", count: 500))\"]"}"#
        #expect(try RDAPDomainParser.parse(Data(quoted.utf8)).ldhName == "a.example")
        // Wrong types everywhere: ignored, not a crash.
        let wrong = #"""
            {"objectClassName":"domain","ldhName":7,"status":"client hold","events":{"eventAction":"expiration"},
             "entities":[5,{"roles":"registrar"},{"roles":["registrar"],"vcardArray":["vcard",[["fn",{},"text",["x"]]]],"handle":9}],
             "nameservers":[null,{"ldhName":["a"]},{"ldhName":"ns1.example"}]}
            """#
        let w = try RDAPDomainParser.parse(Data(wrong.utf8))
        #expect(w.ldhName == nil && w.statuses.isEmpty && w.expiration == nil && w.registrar == nil && w.nameservers == ["ns1.example."])
        // Control characters: kept as data, escaped before any terminal.
        let evil = #"{"objectClassName":"domain","status":["active"],"entities":[{"roles":["registrar"],"vcardArray":["vcard",[["fn",{},"text","Evil\u001b]0;pwned\u0007Reg\u202e"]]]}]}"#
        let e = try RDAPDomainParser.parse(Data(evil.utf8))
        #expect(e.registrar?.contains("\u{1B}") == true)
        let shown = TerminalText.escape(e.registrar!)
        #expect(!shown.contains("\u{1B}") && !shown.contains("\u{07}") && !shown.contains("\u{202E}"))
        // Not JSON, not an object, an error document, another object class.
        #expect(throws: RDAPDomainParser.Failure.notJSON) { try RDAPDomainParser.parse(Data("<html>".utf8)) }
        #expect(throws: RDAPDomainParser.Failure.notJSON) { try RDAPDomainParser.parse(Data("[]".utf8)) }
        #expect(throws: RDAPDomainParser.Failure.errorDocument(404, "Not Found")) {
            try RDAPDomainParser.parse(Data(#"{"errorCode":404,"title":"Not Found"}"#.utf8))
        }
        #expect(throws: RDAPDomainParser.Failure.notADomain("entity")) { try RDAPDomainParser.parse(Data(#"{"objectClassName":"entity"}"#.utf8)) }
        // Long lists are cut, long strings clipped.
        let many = #"{"objectClassName":"domain","status":[\#((0..<5000).map { "\"s\($0)\"" }.joined(separator: ","))],"ldhName":"\#(String(repeating: "a", count: 5000))"}"#
        let m = try RDAPDomainParser.parse(Data(many.utf8))
        #expect(m.statuses.count == 64 && (m.ldhName?.count ?? 0) == 200)
    }

    // MARK: Redirects

    @Test func redirectPolicies() {
        let https = URL(string: "https://rdap.example/v1/domain/x.com")!
        #expect(HTTPTransport.allows(.sameOrigin, from: https, to: URL(string: "https://rdap.example/v2/x")!, hop: 1))
        #expect(!HTTPTransport.allows(.sameOrigin, from: https, to: URL(string: "https://other.example/x")!, hop: 1))
        #expect(HTTPTransport.allows(.crossOrigin(limit: 3), from: https, to: URL(string: "https://other.example/x")!, hop: 1))
        #expect(!HTTPTransport.allows(.crossOrigin(limit: 3), from: https, to: URL(string: "http://other.example/x")!, hop: 1), "no HTTPS → HTTP")
        #expect(!HTTPTransport.allows(.crossOrigin(limit: 3), from: https, to: URL(string: "https://other.example/x")!, hop: 4))
        #expect(!HTTPTransport.allows(.crossOrigin(limit: 3), from: https, to: URL(string: "file:///etc/passwd")!, hop: 1))
    }

    // MARK: The client over HTTP (loopback)

    static func lookUp(_ response: TestHTTPServer.Response, timeout: Double = 5) async throws -> (RegistryLookup, [TestHTTPServer.Request]) {
        let server = try TestHTTPServer { _ in response }
        defer { server.stop() }
        let client = RDAPClient(baseURL: URL(string: "http://127.0.0.1:\(server.port)/rdap/")!, timeout: timeout)
        defer { client.invalidate() }
        let lookup = await client.lookUp(Self.name("victim.com"))
        return (lookup, server.requests)
    }

    @Test func clientReadsARecordAndAsksForRDAPJSON() async throws {
        let (l, requests) = try await Self.lookUp(.init(status: 200, headers: ["Content-Type": "application/rdap+json"], body: Self.nomulusShaped))
        #expect(l.record?.registrar == "The Registrar" && l.problem == nil && l.httpStatus == 200)
        #expect(requests.first?.path == "/rdap/domain/victim.com")
        #expect(requests.first?.headers.first { $0.key.lowercased() == "accept" }?.value.contains("application/rdap+json") == true)
    }

    @Test func clientTurnsFailuresIntoNotes() async throws {
        let (notFound, _) = try await Self.lookUp(.init(status: 404, body: #"{"errorCode":404}"#))
        #expect(notFound.record == nil && notFound.problem?.contains("no record of victim.com") == true)
        let (limited, _) = try await Self.lookUp(.init(status: 429, headers: ["Retry-After": "30"], body: "{}"))
        #expect(limited.problem == "the RDAP server is rate limiting (429), retry after 30 s")
        let (failed, _) = try await Self.lookUp(.init(status: 503, body: ""))
        #expect(failed.problem == "the RDAP server failed (HTTP 503)")
        let (garbage, _) = try await Self.lookUp(.init(status: 200, body: "<html>oops</html>"))
        #expect(garbage.problem == "the RDAP server's answer is not a JSON object")
        // The server holds its answer (a good document) until the lookup has ended (60 s at most):
        // a timed-out problem and no record, with the answer still held, mean the lookup gave up
        // at its 1-s timeout. No wall-clock bound (4 s failed at 4.3 s under ASan; a loaded
        // machine can outlast any): the server cannot answer before the test lets it.
        let release = DispatchSemaphore(value: 0)
        let answered = LockedFlag()
        let held = try TestHTTPServer { _ in
            _ = release.wait(timeout: .now() + 60)
            answered.set(true)
            return .init(status: 200, body: Self.nomulusShaped)
        }
        let client = RDAPClient(baseURL: URL(string: "http://127.0.0.1:\(held.port)/rdap/")!, timeout: 1)
        let slow = await client.lookUp(Self.name("victim.com"))
        let answeredBeforeTheEnd = answered.value
        release.signal()
        client.invalidate()
        held.stop()
        #expect(slow.record == nil && slow.problem?.contains("did not answer within 1 s") == true, "\(slow.problem ?? "")")
        #expect(!answeredBeforeTheEnd, "the lookup gives up at its timeout, before the answer")
    }

    @Test func noServiceAndNoServerAreNotes() async {
        let client = RDAPClient(bootstrap: RDAPBootstrap(services: [:], publication: "", description: ""))
        let l = await client.lookUp(Self.name("victim.zz"))
        #expect(l.url == nil && l.problem?.contains("lists no RDAP service for .zz") == true)
        let closed = RDAPClient(baseURL: URL(string: "http://127.0.0.1:9/")!, timeout: 2)
        let c = await closed.lookUp(Self.name("victim.com"))
        #expect(c.record == nil && c.problem?.hasPrefix("the RDAP server could not be reached") == true, "\(c.problem ?? "")")
    }

    // MARK: Diagnosis

    static let domain = name("victim.com")
    static let now = 1_900_000_000.0

    static func verdict(_ status: VerdictStatus, resolver: String, kind: CheckQuestion.Kind = .delegation, latest: Double? = nil,
                        parking: Bool = false) -> Verdict {
        var v = Verdict(resolver: Resolver(address: try! ServerAddress(parsing: resolver)),
                        question: CheckQuestion(name: domain, type: kind == .delegation ? .ns : .a, kind: kind),
                        status: status, reason: "r", ttl: 60, expiresAt: status == .current ? nil : now + 60, checkedAt: now, latestAt: latest)
        if parking { v.parking = ParkingSignatures.Match(provider: "x", kind: "parking", indicator: "NS x") }
        return v
    }

    static func report(_ verdicts: [Verdict]) -> PropagationReport {
        var byQuestion: [CheckQuestion: [Verdict]] = [:]
        for v in verdicts { byQuestion[v.question, default: []].append(v) }
        let questions = byQuestion.keys.sorted().map { q in
            QuestionReport(question: q, truth: Truth(name: q.name, type: q.type, answer: .data([]), source: .expected, notes: []), verdicts: byQuestion[q]!)
        }
        return PropagationReport(startedAt: now, finishedAt: now, names: [domain], questions: questions, resolverCount: 3)
    }

    static func lookup(_ record: RegistrationRecord) -> RegistryLookup {
        RegistryLookup(domain: domain, url: "http://r/domain/victim.com", record: record, httpStatus: 200, checkedAt: now)
    }

    static let live = ZoneDelegationView(zone: domain, parentZone: "com.", delegated: true, parentNS: ["ns1.victim.com."],
                                         childNS: ["ns1.victim.com."], soaRname: "hostmaster.victim.com.")

    @Test func holdIsSaidFirst() {
        let rec = RegistrationRecord(statuses: [EPPStatus(rdap: "client hold")], expiration: Self.now + 86400 * 200, lastChanged: Self.now - 7200)
        let d = Diagnosis.build(domain: Self.domain, registry: Self.lookup(rec),
                                delegation: ZoneDelegationView(zone: Self.domain, parentZone: "com.", delegated: false),
                                report: Self.report([Self.verdict(.nxdomain, resolver: "192.0.2.1", kind: .record)]),
                                signatures: .bundled, now: Self.now)
        #expect(d.stage == .registryHold)
        #expect(d.line.hasPrefix("registry: clientHold since \(Timestamp.clock(Self.now - 7200, reference: Self.now)) — the registrar still holds the domain; nothing will propagate until they lift it"), "\(d.line)")
        let server = Diagnosis.build(domain: Self.domain, registry: Self.lookup(RegistrationRecord(statuses: [EPPStatus(rdap: "server hold")])),
                                     delegation: nil, report: Self.report([]), signatures: .bundled, now: Self.now)
        #expect(server.line.contains("serverHold") && server.line.contains("the registry holds the domain"))
    }

    @Test func renewedWithCachesPending() {
        let rec = RegistrationRecord(statuses: [EPPStatus(rdap: "active"), EPPStatus(rdap: "auto renew period")],
                                     expiration: Self.now + 86400 * 365, lastChanged: Self.now - 1800, nameservers: ["ns1.victim.com."])
        let latest = Self.now + 7200
        let report = Self.report([
            Self.verdict(.parked, resolver: "192.0.2.1", latest: latest, parking: true),
            Self.verdict(.parked, resolver: "192.0.2.2", latest: latest - 100, parking: true),
            Self.verdict(.current, resolver: "192.0.2.3"),
        ])
        let d = Diagnosis.build(domain: Self.domain, registry: Self.lookup(rec), delegation: Self.live, report: report, signatures: .bundled, now: Self.now)
        #expect(d.stage == .cachesPending)
        let renewedAt = Timestamp.clock(Self.now - 1800, reference: Self.now).replacingOccurrences(of: " UTC", with: "")
        #expect(d.line == "registry: renewed \(renewedAt) (autoRenewPeriod), expires \(Timestamp.rfc3339(rec.expiration!).prefix(10)); "
                + "the TLD delegates to the real nameservers; 2 resolvers still follow the parking nameservers, all gone by ≤ \(Timestamp.clock(latest, reference: Self.now))",
                "\(d.line)")
        #expect(d.resolversPending == 2 && d.followParking && d.allGoneBy == latest)
    }

    @Test func staleRecordsWithACurrentDelegationAreOldAnswers() {
        // The delegation is current everywhere, but one resolver still caches an old A record.
        let report = Self.report([
            Self.verdict(.current, resolver: "192.0.2.1"),
            Self.verdict(.current, resolver: "192.0.2.2"),
            Self.verdict(.stale, resolver: "192.0.2.2", kind: .record, latest: Self.now + 300),
        ])
        let d = Diagnosis.build(domain: Self.domain, registry: nil, delegation: Self.live, report: report, signatures: .bundled, now: Self.now)
        #expect(d.stage == .cachesPending && d.resolversPending == 1 && !d.followParking)
        #expect(d.line == "the TLD delegates to the real nameservers; 1 resolver still serves old answers, all gone by ≤ \(Timestamp.clock(Self.now + 300, reference: Self.now))", "\(d.line)")
    }

    @Test func servfailAloneIsNoCachePending() {
        // Nothing old is served anywhere; two resolvers fail to resolve. The recovery is not
        // waiting on caches, and the line says what the resolvers do.
        let report = Self.report([
            Self.verdict(.current, resolver: "192.0.2.1"),
            Self.verdict(.servfail, resolver: "192.0.2.2"),
            Self.verdict(.servfail, resolver: "192.0.2.3", kind: .record),
        ])
        let d = Diagnosis.build(domain: Self.domain, registry: nil, delegation: Self.live, report: report, signatures: .bundled, now: Self.now)
        #expect(d.stage == .healthy && d.resolversPending == 0 && d.resolversFailing == 2 && d.allGoneBy == nil)
        #expect(d.line.hasSuffix("; 2 resolvers answer SERVFAIL"), "\(d.line)")
        #expect(!d.line.contains("old"), "\(d.line)")
    }

    @Test func parentChildMismatchNamesTheLameServer() {
        let rec = RegistrationRecord(statuses: [EPPStatus(rdap: "active")], nameservers: ["ns1.victim.com.", "ns2.victim.com."])
        var view = Self.live
        view.parentNS = ["ns1.victim.com.", "ns2.victim.com."]
        view.lameServers = ["ns2.victim.com."]
        let d = Diagnosis.build(domain: Self.domain, registry: Self.lookup(rec), delegation: view,
                                report: Self.report([Self.verdict(.current, resolver: "192.0.2.1")]), signatures: .bundled, now: Self.now)
        #expect(d.stage == .delegationMismatch)
        #expect(d.line == "registry and TLD agree, but the zone's own NS set differs from the parent's (lame delegation at ns2.victim.com)", "\(d.line)")
        #expect(d.lameAt == ["ns2.victim.com."])
        // A resolver serving the parent's NS set (ns1 + ns2) follows what the TLD delegates to
        // now, not old name servers: the classifier calls it current (`Truth.parentNS`; seen in an
        // end-to-end run, where one testbed resolver answered NS from the referral), and the line
        // does not count it.
        var parentSide = Self.verdict(.current, resolver: "192.0.2.2")
        parentSide.answers = ["ns1.victim.com.", "ns2.victim.com."]
        var old = Self.verdict(.stale, resolver: "192.0.2.3")
        old.answers = ["ns1.old-host.example."]
        let withParentSide = Diagnosis.build(domain: Self.domain, registry: Self.lookup(rec), delegation: view,
                                             report: Self.report([Self.verdict(.current, resolver: "192.0.2.1"), parentSide]),
                                             signatures: .bundled, now: Self.now)
        #expect(withParentSide.line == d.line, "\(withParentSide.line)")
        let withOld = Diagnosis.build(domain: Self.domain, registry: Self.lookup(rec), delegation: view,
                                      report: Self.report([Self.verdict(.current, resolver: "192.0.2.1"), parentSide, old]),
                                      signatures: .bundled, now: Self.now)
        #expect(withOld.line.contains("; 1 resolver still follows the old nameservers"), "\(withOld.line)")
        // A resolver that answers SERVFAIL (a lame server tried, a timeout upstream) serves no old
        // answer: it is counted as failing, never as following old name servers (seen in CI, where
        // Knot Resolver SERVFAILed the NS, A and MX questions of the lame zone under load).
        var failingNS = Self.verdict(.servfail, resolver: "192.0.2.4")
        failingNS.answers = []
        let failingA = Self.verdict(.servfail, resolver: "192.0.2.4", kind: .record)
        let withFailing = Diagnosis.build(domain: Self.domain, registry: Self.lookup(rec), delegation: view,
                                          report: Self.report([Self.verdict(.current, resolver: "192.0.2.1"), parentSide, failingNS, failingA]),
                                          signatures: .bundled, now: Self.now)
        #expect(withFailing.stage == .delegationMismatch)
        #expect(withFailing.line == d.line + "; 1 resolver answers SERVFAIL", "\(withFailing.line)")
        #expect(withFailing.resolversPending == 0 && withFailing.resolversFailing == 1 && withFailing.allGoneBy == nil)
        // Old answers and SERVFAILs side by side: each counted once, by what it is.
        let both = Diagnosis.build(domain: Self.domain, registry: Self.lookup(rec), delegation: view,
                                   report: Self.report([Self.verdict(.current, resolver: "192.0.2.1"), parentSide, old, failingNS]),
                                   signatures: .bundled, now: Self.now)
        #expect(both.line.hasSuffix("; 1 resolver still follows the old nameservers, all gone by ≤ \(Timestamp.clock(Self.now + 60, reference: Self.now)); 1 resolver answers SERVFAIL"), "\(both.line)")
        #expect(both.resolversPending == 1 && both.resolversFailing == 1)
        // Without the registry's word, the same DNS finding.
        let dnsOnly = Diagnosis.build(domain: Self.domain, registry: nil, delegation: view, report: Self.report([]), signatures: .bundled, now: Self.now)
        #expect(dnsOnly.line == "the zone's own NS set differs from the parent's (lame delegation at ns2.victim.com)", "\(dnsOnly.line)")
    }

    @Test func parkedDelegationAndWarnings() {
        var view = Self.live
        view.parentNS = ["ns1.pendingrenewaldeletion.com."]
        view.childNS = ["ns1.pendingrenewaldeletion.com."]
        let rec = RegistrationRecord(statuses: [EPPStatus(rdap: "active")], expiration: Self.now + 86400 * 10)
        let d = Diagnosis.build(domain: Self.domain, registry: Self.lookup(rec), delegation: view, report: Self.report([]),
                                signatures: .bundled, warnExpiry: 30 * 86400, now: Self.now)
        #expect(d.stage == .parkedDelegation && d.tldParking != nil)
        #expect(d.warnings.count == 2, "\(d.warnings)")
        #expect(d.warnings.first?.contains("within 30 days") == true)
        // Outside the window and healthy: no warning.
        let fine = Diagnosis.build(domain: Self.domain, registry: Self.lookup(RegistrationRecord(statuses: [EPPStatus(rdap: "active")], expiration: Self.now + 86400 * 300)),
                                   delegation: Self.live, report: Self.report([Self.verdict(.current, resolver: "192.0.2.1")]),
                                   signatures: .bundled, warnExpiry: 30 * 86400, now: Self.now)
        #expect(fine.stage == .healthy && fine.warnings.isEmpty, "\(fine.line) \(fine.warnings)")
        #expect(fine.line.hasPrefix("registry: active, expires ") && fine.line.hasSuffix("; the TLD and the zone agree on ns1.victim.com"), "\(fine.line)")
        // A broken RDAP server: a note in the line, never a warning.
        let broken = Diagnosis.build(domain: Self.domain, registry: RegistryLookup(domain: Self.domain, problem: "the RDAP server failed (HTTP 500)", httpStatus: 500, checkedAt: Self.now),
                                     delegation: Self.live, report: Self.report([]), signatures: .bundled, warnExpiry: 30 * 86400, now: Self.now)
        #expect(broken.warnings.isEmpty && broken.line.hasPrefix("registry: unknown (the RDAP server failed (HTTP 500))"), "\(broken.line)")
    }

    @Test func warningsTurnOnlyASuccessIntoOne() {
        #expect(Diagnosis.exitStatus(outcome: .converged, warnings: []) == 0)
        #expect(Diagnosis.exitStatus(outcome: .converged, warnings: ["x"]) == 1)
        #expect(Diagnosis.exitStatus(outcome: .notConverged, warnings: ["x"]) == 1)
        #expect(Diagnosis.exitStatus(outcome: .cannotTell, warnings: ["x"]) == 2)
        #expect(Diagnosis.exitStatus(outcome: .cannotTell, warnings: []) == 2)
    }

    @Test func jsonObjectCarriesTheRegistryAndTheDNSSides() {
        let rec = RegistrationRecord(statuses: [EPPStatus(rdap: "client hold")], expiration: Self.now, registrar: "R\u{1B}[31m", nameservers: ["ns1.victim.com."])
        let d = Diagnosis.build(domain: Self.domain, registry: Self.lookup(rec), delegation: Self.live, report: Self.report([]), signatures: .bundled, now: Self.now)
        let text = DiagnosisJSON.object(d).serialized()
        #expect(text.contains(#""stage":"registryHold""#))
        #expect(text.contains(#""statuses":["clientHold"]"#) && text.contains(#""rdapStatuses":["client hold"]"#))
        #expect(text.contains(#""registrar":"R\u001b[31m""#), "\(text)")
        #expect(!text.contains("\u{1B}"))
    }
}

/// A check does not wait for a slow RDAP server past its DNS work (plus `grace`), except
/// for `--warn-expiry`, which needs the answer; and a watch shares one lookup in flight.
@Suite("Registry lookups never hold up a check")
struct RegistryGraceTests {
    static func slowLookup(_ domain: DomainName, after seconds: Double) -> Task<RegistryLookup?, Never> {
        Task {
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            return RegistryLookup(domain: domain, problem: "slow answer", checkedAt: WallClock.now())
        }
    }

    @Test func graceEndsTheWaitAndWarnExpiryWaitsFully() async throws {
        let domain = try DomainName("victim.com")
        // A lookup that cannot finish before the test lets it: the answer must come without it.
        // (No wall-clock bound: parallel suites can starve the cooperative pool for seconds.)
        let (gate, open) = AsyncStream<Void>.makeStream()
        let blocked = Task<RegistryLookup?, Never> {
            for await _ in gate {}
            return RegistryLookup(domain: domain, problem: "slow answer", checkedAt: WallClock.now())
        }
        let source = RegistrySource(client: RDAPClient(timeout: 5), grace: 0.2)
        let early = await source.answer(of: blocked, domain: domain, waitFully: false)
        #expect(early?.problem?.contains("has not answered yet") == true, "\(early?.problem ?? "nil")")
        open.finish()
        // --warn-expiry waits for the answer itself.
        let full = await source.answer(of: blocked, domain: domain, waitFully: true)
        #expect(full?.problem == "slow answer")
        // An answer that is in before the grace ends is the answer. The grace is long: the lookup's
        // task has to be run first, and a parallel run can keep it waiting for its turn for many
        // seconds (an answer that is in returns at once, so this costs nothing).
        let patient = RegistrySource(client: RDAPClient(timeout: 5), grace: 300)
        let quick = await patient.answer(of: Self.slowLookup(domain, after: 0), domain: domain, waitFully: false)
        #expect(quick?.problem == "slow answer")
    }
}

/// The diagnosis's walk to the TLD's delegation runs while the resolvers are asked; where the
/// root servers cannot be reached (a firewall that lets DNS through to resolvers only), the
/// check does not wait out the walk's timeouts, except for `--warn-expiry`, which needs it.
@Suite("The delegation view never holds up a check")
struct DelegationViewGraceTests {
    @Test func unreachableRootEndsTheWaitAndWarnExpiryWaitsForTheWalk() async throws {
        let rootQueries = Protected(0)
        let silentRoot = try TestResponder(host: "127.79.9.1", tcp: false) { _ in rootQueries.withLock { $0 += 1 }; return [] }
        defer { silentRoot.stop() }
        let resolver = try PropagationCheckTests.resolver("127.79.9.2") { m in
            Answer.to(m, answers: [MiniZone.rr(m.questions[0].name, .a, "192.0.2.10", ttl: 300)])
        }
        defer { resolver.stop() }
        var plan = PropagationCheck.Plan(names: [try DomainName("victim.example")], types: [.a],
                                         resolvers: [Resolver(address: resolver.address, operatorName: "R")])
        plan.expectations = [.a: ["192.0.2.10"]]
        plan.checkDelegation = false
        plan.trustAnchor = nil
        plan.diagnose = true
        plan.iteration.rootHints = RootHints(servers: [.init(name: "root.test.", addresses: [IPAddress("127.79.9.1")!])])
        plan.iteration.port = silentRoot.address.port

        // Every attempt to the root waits 5 s: the walk cannot end within the 1.5-s grace.
        var slow = EngineConfiguration()
        slow.timeout = 5
        slow.retries = 1
        slow.maxRatePerServer = 0
        let engine = QueryEngine(configuration: slow)
        defer { engine.shutdown() }
        let report = await PropagationCheck(plan: plan, engine: engine).run()
        #expect(report.verdicts.map(\.status) == [.current])
        let line = try #require(report.diagnosis?.line)
        #expect(line.contains("the TLD's delegation of victim.example. was not seen within 1.5 s of the resolvers' answers"), "\(line)")
        #expect(report.diagnosis?.stage == .unknown)
        #expect(rootQueries.withLock { $0 } >= 1)   // the walk had started

        // --warn-expiry waits for the walk, which ends in its own failure (short timeouts here).
        plan.warnExpiry = 30 * 86400
        let quick = PropagationCheckTests.engine()
        defer { quick.shutdown() }
        let waited = await PropagationCheck(plan: plan, engine: quick).run()
        let full = try #require(waited.diagnosis?.line)
        #expect(full.contains("cannot follow the delegation of victim.example."), "\(full)")
        #expect(!full.contains("was not seen within"))
    }
}
