/// `dnsprop resolvers check`: is each resolver of a list still what the list says?
/// Reachable over UDP and TCP, recursive, honest about names that do not exist, validating
/// DNSSEC or not, its EDNS buffer size and the site that answers (NSID, id.server, hostname.bind).
public struct ResolverHealthCheck: Sendable {
    public struct Probes: Sendable {
        /// A name no resolver under test is authoritative for, with data: asked to see recursion.
        public var recursionName: DomainName
        /// A zone that exists and has no wildcard: a random label under it must be NXDOMAIN.
        public var honestyZone: DomainName
        /// A DNSSEC-signed name: a validating resolver sets AD on its answer.
        public var signedName: DomainName
        /// A deliberately mis-signed name: a validating resolver answers SERVFAIL.
        public var brokenName: DomainName
        /// Over TCP, how long to wait for an answer.
        public var tcpTimeout: Double = 3
        /// How many TCP exchanges at once.
        public var tcpConcurrency = 16
        /// Pauses before asking a SERVFAIL to a probe in class IN again, one ask after each while
        /// it stays SERVFAIL: resolvers SERVFAIL a zone they have not seen yet (Knot Resolver, for
        /// longer when its server selection backs off a slow authority) and cache a failure
        /// briefly (RFC 9520 §3.2). A SERVFAIL on the broken name from a resolver that set AD on
        /// the signed name and answers the broken one with CD=1 is validation at work: it is not
        /// asked again.
        public var servfailPauses: [Double] = [1.5, 3]

        public init(recursionName: DomainName, honestyZone: DomainName, signedName: DomainName, brokenName: DomainName) {
            self.recursionName = recursionName
            self.honestyZone = honestyZone
            self.signedName = signedName
            self.brokenName = brokenName
        }

        /// Real-world defaults: example.com (IANA's, no wildcard: a random label is NXDOMAIN),
        /// isc.org (signed since 2009), dnssec-failed.org (Comcast's deliberately broken zone).
        public static let internet = Probes(recursionName: DomainName(presentation: "example.com.")!,
                                            honestyZone: DomainName(presentation: "example.com.")!,
                                            signedName: DomainName(presentation: "isc.org.")!,
                                            brokenName: DomainName(presentation: "dnssec-failed.org.")!)
    }

    public let engine: QueryEngine
    public let probes: Probes
    /// The random label asked under `honestyZone` (fixed only by tests).
    public var honestyLabel: String

    public init(engine: QueryEngine, probes: Probes, honestyLabel: String? = nil) {
        self.engine = engine
        self.probes = probes
        self.honestyLabel = honestyLabel ?? "dnsprop-" + String((0..<12).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }

    public func run(_ resolvers: [Resolver]) async -> [ResolverHealth] {
        let honestyName = (try? DomainName(honestyLabel + "." + probes.honestyZone.text)) ?? probes.honestyZone
        let nsid = QueryOptions.recursiveWithNSID
        var dnssec = nsid
        dnssec.dnssecOK = true
        let templates: [QueryTemplate?] = [
            try? QueryTemplate(name: probes.recursionName, type: .a, options: nsid),
            try? QueryTemplate(name: honestyName, type: .a, options: nsid),
            try? QueryTemplate(name: probes.signedName, type: .a, options: dnssec),
            try? QueryTemplate(name: probes.brokenName, type: .a, options: dnssec),
            try? QueryTemplate(name: DomainName(presentation: "id.server.")!, type: .txt, recordClass: .ch, options: nsid),
            try? QueryTemplate(name: DomainName(presentation: "hostname.bind.")!, type: .txt, recordClass: .ch, options: nsid),
        ]
        let usable = templates.compactMap { $0 }
        guard usable.count == templates.count else {
            return resolvers.map { ResolverHealth(resolver: $0, problems: ["could not encode the probe queries"]) }
        }
        let fanOut = ResolverFanOut(resolvers: resolvers, templates: usable)
        var results = await engine.results(for: fanOut.requests)
        let n = usable.count, signedSlot = 2, brokenSlot = 3
        // The broken name answered SERVFAIL: asked with CD=1 (RFC 4035 §3.2.2). An answer then
        // means the resolver failed validation, not resolution. By resolver.
        var checkingDisabled: [Int: QueryResult] = [:]
        var cd = dnssec
        cd.checkingDisabled = true
        let cdAsked = resolvers.indices.filter { results[$0 * n + brokenSlot].message?.rcode == .servFail }
        if !cdAsked.isEmpty, let template = try? QueryTemplate(name: probes.brokenName, type: .a, options: cd) {
            let answers = await engine.results(for: cdAsked.map { QueryRequest(server: resolvers[$0].address, query: template) })
            for (k, r) in cdAsked.enumerated() { checkingDisabled[r] = answers[k] }
        }
        // Only for a resolver that validates (AD on the signed name): one that does not answered
        // the broken name with CD=1 because its SERVFAIL without was transient (Knot Resolver on
        // a zone it has not seen, seen in CI), so it is asked again like any other SERVFAIL.
        func validationExplains(_ i: Int) -> Bool {
            i % n == brokenSlot && results[i - brokenSlot + signedSlot].message?.header.flags.contains(.ad) == true
                && checkingDisabled[i / n]?.message.map { $0.rcode == .noError && !$0.answers.isEmpty } == true
        }
        var retry = results.indices.filter { $0 % n <= brokenSlot && results[$0].message?.rcode == .servFail && !validationExplains($0) }
        for pause in probes.servfailPauses where !retry.isEmpty {
            try? await Task.sleep(nanoseconds: UInt64(pause * 1e9))
            let again = await engine.results(for: retry.map { fanOut.requests[$0] })
            // A SERVFAIL again keeps the first answer: its Extended DNS Error names the cause
            // (a cached failure is reported as one later, e.g. unbound's EDE 6 after EDE 7).
            var still: [Int] = []
            for (k, i) in retry.enumerated() {
                if let m = again[k].message, m.rcode != .servFail { results[i] = again[k] } else { still.append(i) }
            }
            retry = still
        }
        // TCP: the recursion probe again, over TCP, a bounded number at a time.
        var tcp: [TCPExchange.Outcome?] = Array(repeating: nil, count: resolvers.count)
        await withTaskGroup(of: (Int, TCPExchange.Outcome).self) { group in
            var next = 0
            func add() {
                guard next < resolvers.count else { return }
                let i = next, server = resolvers[i].address, template = usable[0], timeout = probes.tcpTimeout
                group.addTask { (i, await TCPExchange.ask(server, template, timeout: timeout)) }
                next += 1
            }
            for _ in 0..<max(1, probes.tcpConcurrency) { add() }
            for await (i, o) in group { tcp[i] = o; add() }
        }
        return resolvers.indices.map { r in
            let base = r * usable.count
            return ResolverHealth.judge(resolver: resolvers[r], recursion: results[base], honesty: results[base + 1],
                                        signed: results[base + 2], broken: results[base + 3], brokenWithCD: checkingDisabled[r],
                                        idServer: results[base + 4], hostnameBind: results[base + 5], tcp: tcp[r]!)
        }
    }
}

/// What `resolvers check` found out about one resolver.
public struct ResolverHealth: Sendable {
    public enum Validation: String, Sendable { case validating, notValidating = "not-validating", unknown }

    public var resolver: Resolver
    public var udp: Bool = false
    public var udpError: String?
    public var rttMs: Double?
    public var tcp: Bool = false
    public var tcpError: String?
    public var tcpRttMs: Double?
    /// RA set and an answer with data for a name it cannot be authoritative for.
    public var recursive: Bool = false
    /// A random name under a zone without a wildcard came back NXDOMAIN.
    public var honest: Bool?
    /// What it answered for the name that does not exist, when it was not NXDOMAIN.
    public var lie: String?
    public var validation: Validation = .unknown
    public var validationDetail: String?
    /// The UDP payload size the resolver advertises (EDNS), nil without EDNS.
    public var ednsBufferSize: UInt16?
    public var nsid: String?
    /// NSID, else CH TXT id.server, else hostname.bind (network text).
    public var site: String?
    public var problems: [String] = []

    public init(resolver: Resolver, problems: [String] = []) {
        self.resolver = resolver
        self.problems = problems
    }

    /// Answers over neither UDP nor TCP.
    public var dead: Bool { !udp && !tcp }
    /// Answers addresses for names that do not exist.
    public var lying: Bool { honest == false }
    public var passed: Bool { problems.isEmpty }
    /// The reason to comment the entry out of a list, if there is one.
    public var removalReason: String? {
        if dead { return "dead: no answer over UDP or TCP" + (udpError.map { " (\($0))" } ?? "") }
        if lying { return "lying: answers \(lie ?? "data") for a name that does not exist" }
        if !recursive && !udp { return nil }
        if !recursive { return "not a recursive resolver for us: " + (problems.first ?? "no recursive answer") }
        return nil
    }

    static func text(_ m: Message) -> String? {
        m.answers.first { $0.type == .txt }.map { $0.rdataFields.map { f in f.hasPrefix("\"") && f.hasSuffix("\"") && f.count >= 2 ? String(f.dropFirst().dropLast()) : f }.joined() }
    }

    /// `brokenWithCD`: the broken name asked again with CD=1 after a SERVFAIL, if it was.
    static func judge(resolver: Resolver, recursion: QueryResult, honesty: QueryResult, signed: QueryResult, broken: QueryResult,
                      brokenWithCD: QueryResult? = nil, idServer: QueryResult, hostnameBind: QueryResult,
                      tcp: TCPExchange.Outcome) -> ResolverHealth {
        var h = ResolverHealth(resolver: resolver)
        let rtt = { (r: QueryResult) in r.rtt.map { ($0 * 1_000_000).rounded() / 1000 } }
        switch recursion.outcome {
        case .success(let m):
            h.udp = true
            h.rttMs = rtt(recursion)
            h.ednsBufferSize = m.edns?.udpPayloadSize
            h.nsid = m.nsidSite
            let ra = m.header.flags.contains(.ra)
            let data = m.rcode == .noError && m.answers.contains { $0.type == .a || $0.type == .cname }
            h.recursive = ra && data
            if !h.recursive {
                h.problems.append(m.rcode == .refused ? "REFUSED: does not recurse for us"
                                  : !ra ? "RA not set: no recursion available" : "no answer for \(recursion.request.query.question.name) (\(m.rcode.name))")
            }
        case .failure(let e):
            h.udpError = e.description
        }
        if let m = tcp.message {
            h.tcp = true
            h.tcpRttMs = tcp.rtt.map { ($0 * 1_000_000).rounded() / 1000 }
            if !h.udp && m.rcode == .noError && m.header.flags.contains(.ra) && !m.answers.isEmpty { h.recursive = true }
        } else {
            h.tcpError = tcp.error
        }
        if h.dead {
            h.problems.append("no answer over UDP (\(h.udpError ?? "?")) or TCP (\(h.tcpError ?? "?"))")
        } else if !h.udp {
            h.problems.append("no answer over UDP (\(h.udpError ?? "?")); answers only over TCP")
        } else if !h.tcp {
            h.problems.append("no answer over TCP (\(h.tcpError ?? "?"))")
        }
        if let m = honesty.message {
            if m.rcode == .nxDomain {
                h.honest = true
            } else if m.rcode == .noError {
                let data = m.answers.filter { $0.type == .a || $0.type == .aaaa || $0.type == .cname }
                if data.isEmpty {
                    h.honest = nil   // NODATA: odd, but no address handed out
                    h.problems.append("NOERROR without data for a name that does not exist")
                } else {
                    h.honest = false
                    h.lie = data.map(\.rdata).joined(separator: " ")
                    h.problems.append("answers \(h.lie!) for \(honesty.request.query.question.name), which does not exist")
                }
            }
        }
        // DNSSEC: AD on the signed name, SERVFAIL on the broken one (and, asked with CD=1, an
        // answer: the failure was validation's).
        if let good = signed.message, let bad = broken.message {
            let ede = bad.edns?.extendedErrors.map(\.description).joined(separator: "; ")
            let cd = brokenWithCD?.message
            let cdAnswers = cd.map { $0.rcode == .noError && !$0.answers.isEmpty }
            let cdClause = cdAnswers == true ? "; answers it with CD=1" : cd.map { "; \($0.rcode.name) with CD=1 too" } ?? ""
            if good.header.flags.contains(.ad) && bad.rcode == .servFail {
                h.validation = .validating
                h.validationDetail = "AD on \(signed.request.query.question.name); SERVFAIL on \(broken.request.query.question.name)"
                    + (ede.map { $0.isEmpty ? "" : " (\($0))" } ?? "") + cdClause
            } else if !good.header.flags.contains(.ad) && bad.rcode == .noError && !bad.answers.isEmpty {
                h.validation = .notValidating
                h.validationDetail = "no AD on \(signed.request.query.question.name); answers \(broken.request.query.question.name)"
            } else {
                h.validationDetail = "AD \(good.header.flags.contains(.ad) ? "set" : "not set") on the signed name, \(bad.rcode.name) on the broken one"
                    + (ede.map { $0.isEmpty ? "" : " (\($0))" } ?? "") + cdClause
                    + (bad.rcode == .servFail && cd != nil && cdAnswers != true ? ": it fails to resolve the name, not to validate it" : "")
            }
        }
        h.site = h.nsid ?? idServer.message.flatMap(text) ?? hostnameBind.message.flatMap(text)
        return h
    }
}
