import Dispatch

/// Finds a name's authoritative servers by walking down from the root (RD=0
/// at every step), the way a recursive resolver does, but keeping what it
/// sees: the parent's delegation, glue, servers that answered badly.
///
/// The walk is polite and bounded (docs/hardening.md, "Iteration budgets"):
/// one server per zone level at a time (the fastest known, the next on failure
/// or after a short wait), delegations and name-server addresses cached with
/// their TTLs in a `DelegationCache`, glue only in the answering zone's
/// bailiwick, at most a few NS names without glue looked up per referral, and
/// a query, look-up and time budget per truth. Every server of the final zone
/// is still asked by `TruthFinder`: their disagreement is what matters there.
public struct IterativeResolver: Sendable {
    public struct Options: Sendable, Hashable {
        public var rootHints: RootHints = .iana
        /// Port of every authoritative server (53; other values only for tests).
        public var port: UInt16 = 53
        /// Referrals followed for one name before giving up.
        public var maxReferrals = 16
        /// Nested look-ups of name-server addresses (out-of-zone NS without glue).
        public var maxNestedLookups = 3
        /// Queries one truth may cause, its walk, name-server look-ups and CNAME targets included
        /// (BIND's max-query-count is 200 per client query).
        public var maxQueriesPerTruth = 200
        /// Look-ups of name-server addresses (NS names without glue) one truth may cause.
        public var maxNameServerLookupsPerTruth = 16
        /// NS names without glue looked up for one referral (BIND limits this to 5 since CVE-2020-8616).
        public var maxGluelessPerReferral = 4
        /// Wall-clock time one truth may take, in seconds.
        public var maxSecondsPerTruth = 30.0
        /// NS names of one zone taken from a referral; the rest are ignored.
        public var maxServersPerZone = 13
        /// Addresses of one name server taken (from glue or a look-up).
        public var maxAddressesPerServer = 4
        /// Ask the next server of a level when the current one has not answered after this long
        /// (seconds, for a server whose round trip is unknown; known ones get 3 × their RTT).
        public var nextServerAfter = 0.8
        /// Longest a delegation or an address is kept, whatever its TTL (seconds).
        public var maxCacheTTL = 86_400.0
        /// Longest the delegation of a checked name's own zone is kept (seconds). Moving a
        /// zone to new servers changes exactly this delegation, often with a TTL of two
        /// days at the TLD; a watch must see the change, so the parent is asked again
        /// after this long (one query per zone, to the TLD for most names).
        public var zoneDelegationRefresh = 300.0
        /// How long a failed name-server look-up is remembered (seconds).
        public var negativeCacheTTL = 30.0
        public init() {}
    }

    public let engine: QueryEngine
    public let options: Options
    /// Shared by every walk of this resolver; pass one in to share it wider (watch rounds).
    public let cache: DelegationCache
    let counters = IterationCounters()

    public init(engine: QueryEngine, options: Options = Options(), cache: DelegationCache = DelegationCache()) {
        self.engine = engine
        self.options = options
        self.cache = cache
    }

    /// Queries this resolver sent, by zone level, since it was made.
    public var statistics: IterationStatistics { counters.snapshot }

    /// A name server and the addresses it was found at.
    public struct NameServer: Sendable, Hashable {
        public var name: String
        public var addresses: [IPAddress]
    }

    /// A server that answered badly, and how.
    public struct LameServer: Sendable, Hashable, CustomStringConvertible {
        public var server: String
        public var zone: String
        public var reason: String
        public var description: String { "\(server) for \(zone): \(reason)" }
    }

    /// Where a name lives: its zone, the servers for that zone, and the delegation above it.
    public struct Delegation: Sendable {
        public var zone: DomainName
        public var servers: [NameServer]
        /// NS names the parent zone delegates `zone` to (empty for the root).
        public var parentNS: [String]
        public var parentZone: DomainName?
        public var lame: [LameServer]
    }

    public enum LookupError: Error, Sendable, CustomStringConvertible {
        case noServers(zone: String, lame: [LameServer])
        case tooManyReferrals(String)
        case loop(String)
        /// A budget ran out while the delegation of `zone` was being followed.
        case gaveUp(zone: String, limit: String)

        public var description: String {
            switch self {
            case .noServers(let zone, let lame):
                let detail = lame.prefix(4).map(\.description).joined(separator: "; ")
                return "no server for \(zone) gave a usable answer" + (detail.isEmpty ? "" : " (\(detail))")
            case .tooManyReferrals(let name): return "too many referrals while looking up \(name)"
            case .loop(let name): return "delegation loop while looking up \(name)"
            case .gaveUp(let zone, let limit): return "gave up: the delegation of \(zone) \(limit)"
            }
        }

        static func gaveUp(_ zone: DomainName, _ e: LookupBudget.Exceeded) -> LookupError {
            switch e {
            case .queries(let n): return .gaveUp(zone: zone.text, limit: "needs more than \(n) queries")
            case .lookups(let n): return .gaveUp(zone: zone.text, limit: "needs more than \(n) look-ups of name-server addresses")
            case .time(let s): return .gaveUp(zone: zone.text, limit: "takes longer than \(s == s.rounded() ? String(Int(s)) : String(s)) s")
            }
        }

        /// The same failure, blamed on `zone` (the delegation whose name servers were being looked up).
        func blaming(_ zone: DomainName) -> LookupError {
            if case .gaveUp(_, let limit) = self { return .gaveUp(zone: zone.text, limit: limit) }
            return self
        }
    }

    /// Every address of `servers`, within the caps, once each.
    func serverAddresses(_ servers: [NameServer]) -> [(String, ServerAddress)] {
        var seen = Set<ServerAddress>()
        var out: [(String, ServerAddress)] = []
        for s in servers.prefix(options.maxServersPerZone) {
            for ip in s.addresses.prefix(options.maxAddressesPerServer) {
                let a = ServerAddress(ip: ip, port: options.port)
                if seen.insert(a).inserted { out.append((s.name, a)) }
            }
        }
        return out
    }

    /// Addresses in the order to try them: known fast ones first, unknown ones
    /// (IPv4 before IPv6, shuffled to spread the load), failed ones last.
    func ordered(_ targets: [(String, ServerAddress)]) -> [(String, ServerAddress)] {
        let keyed = targets.shuffled().map { t -> ((String, ServerAddress), Double, Bool) in
            (t, cache.rtt(of: t.1) ?? DelegationCache.unknownRTT, t.1.ip.isIPv6)
        }
        return keyed.sorted { a, b in a.1 != b.1 ? a.1 < b.1 : (!a.2 && b.2) }.map(\.0)
    }

    /// Asks every one of `servers` (the final zone's, whose disagreement matters), within the budget.
    func ask(_ servers: [(String, ServerAddress)], _ name: DomainName, _ type: RecordType,
             zone: DomainName, budget: LookupBudget) async throws(LookupError) -> [QueryResult] {
        guard let template = try? QueryTemplate(name: name, type: type, options: .authoritative) else { return [] }
        if let exceeded = budget.takeQueries(servers.count) { throw .gaveUp(zone, exceeded) }
        for _ in servers { counters.countQuery(toServersOf: zone) }
        let results = await engine.results(for: servers.map { QueryRequest(server: $0.1, query: template) })
        for r in results {
            if let rtt = r.rtt, r.message != nil { cache.recordRTT(rtt, for: r.request.server) } else { cache.recordFailure(for: r.request.server) }
        }
        return results
    }

    /// The outcome of asking a zone's servers one at a time.
    struct OneAnswer {
        var message: Message?
        var server: String
        var lame: [LameServer]
        var exceeded: LookupBudget.Exceeded?
    }

    /// Asks the servers of `zone` one at a time, in `ordered` order, until one gives an
    /// answer `usable` accepts: the next is asked when one fails, or when it has not
    /// answered within `nextServerAfter` (3 × its RTT when known). Unusable answers
    /// are reported as lame.
    func askOneAtATime(_ targets: [(String, ServerAddress)], _ name: DomainName, _ type: RecordType,
                       zone: DomainName, budget: LookupBudget, options: QueryOptions = .authoritative,
                       usable: @escaping @Sendable (Message) -> String?) async -> OneAnswer {
        guard !targets.isEmpty, let template = try? QueryTemplate(name: name, type: type, options: options) else {
            return OneAnswer(message: nil, server: "", lame: [], exceeded: nil)
        }
        let race = ServerRace(targets: ordered(targets), template: template, zone: zone, resolver: self, budget: budget, usable: usable)
        return await withCheckedContinuation { (c: CheckedContinuation<OneAnswer, Never>) in race.begin(c) }
    }

    /// Walks from the root (or the deepest cached delegation) to the zone that holds `name`.
    public func delegation(for name: DomainName) async throws -> Delegation {
        try await delegation(for: name, budget: LookupBudget(options: options))
    }

    /// The same, within a truth's budget. Concurrent walks for one name (A, AAAA and MX truths) share one flight.
    func delegation(for name: DomainName, budget: LookupBudget) async throws(LookupError) -> Delegation {
        if let d = cache.delegation(for: name) {
            counters.countCachedDelegation()
            return d
        }
        let (task, isNew) = cache.flight(for: name) {
            Task { try await self.walk(name, nesting: 0, visiting: [], budget: budget) }
        }
        defer { if isNew { cache.endFlight(for: name) } }
        do {
            return try await task.value
        } catch let e as LookupError {
            throw e
        } catch {
            throw .noServers(zone: name.text, lame: [])
        }
    }

    /// Kinds of answer to the walk's NS question.
    enum Step { case authoritative, referral(DomainName), lame(String) }

    static func classify(_ m: Message, for name: DomainName, at zone: DomainName) -> Step {
        if m.rcode != .noError && m.rcode != .nxDomain { return .lame("answered \(m.rcode)") }
        if m.header.flags.contains(.aa) { return .authoritative }
        if let cut = referralZone(m, for: name, below: zone) { return .referral(cut) }
        return .lame("not authoritative and no referral (lame delegation)")
    }

    func walk(_ name: DomainName, nesting: Int, visiting: Set<String>, budget: LookupBudget) async throws(LookupError) -> Delegation {
        if nesting > 0, let d = cache.delegation(for: name) {
            counters.countCachedDelegation()
            return d
        }
        var zone = DomainName(validatedRoot: ())
        var servers = options.rootHints.servers.map { NameServer(name: $0.name, addresses: $0.addresses) }
        var parentNS: [String] = []
        var parentZone: DomainName? = nil
        var expires = cache.now() + options.maxCacheTTL
        var glueless = 0
        if let cut = cache.deepestCut(for: name) {
            counters.countCachedDelegation()
            zone = cut.zone
            servers = cut.servers
            parentNS = cut.parentNS
            parentZone = cut.parentZone
            expires = cut.expires
        }
        var lame: [LameServer] = []
        for _ in 0..<options.maxReferrals {
            if serverAddresses(servers).isEmpty {
                (servers, glueless) = try await resolveGlueless(servers, of: zone, want: 1, done: glueless,
                                                                 nesting: nesting, visiting: visiting.union([name.text]), budget: budget)
            }
            let targets = serverAddresses(servers)
            guard !targets.isEmpty else {
                throw .noServers(zone: zone.text, lame: lame + [LameServer(server: servers.map(\.name).prefix(4).joined(separator: " "), zone: zone.text,
                                                                           reason: "no address for any name server (no glue, and none found by look-up)")])
            }
            let here = zone
            // DO set: a signed parent's referral then carries the child's DS RRset (or the proof
            // that there is none), which the chain of trust needs without another query.
            let answer = await askOneAtATime(targets, name, .ns, zone: zone, budget: budget, options: ChainOfTrust.walkOptions) { m in
                if case .lame(let why) = Self.classify(m, for: name, at: here) { return why }
                return nil
            }
            lame += answer.lame
            if let exceeded = answer.exceeded { throw .gaveUp(zone, exceeded) }
            guard let m = answer.message else { throw .noServers(zone: zone.text, lame: lame) }
            switch Self.classify(m, for: name, at: zone) {
            case .lame(let why):
                throw .noServers(zone: zone.text, lame: lame + [LameServer(server: answer.server, zone: zone.text, reason: why)])
            case .authoritative:
                var found = zone
                if let ns = m.answers.first(where: { $0.type == .ns && DomainName.equalPresentation($0.owner, name.text) }),
                   let apex = DomainName(presentation: ns.owner), apex.isSubdomain(of: zone) {
                    found = apex
                } else if let soa = m.authority.first(where: { $0.type == .soa }), let apex = DomainName(presentation: soa.owner),
                          name.isSubdomain(of: apex), apex.isSubdomain(of: zone) {
                    found = apex
                }
                if found != zone {
                    // The same servers serve parent and child: the parent's NS set for the child
                    // is then not visible on this path; the child's servers are these.
                    parentZone = zone
                    parentNS = []
                }
                // Every server of the final zone is asked for the truth: look up the addresses
                // of those without glue too (within the per-referral limit).
                if servers.contains(where: { $0.addresses.isEmpty }) {
                    (servers, glueless) = try await resolveGlueless(servers, of: zone, want: servers.count, done: glueless,
                                                                     nesting: nesting, visiting: visiting.union([name.text]), budget: budget)
                    cache.update(zone: zone, servers: servers)
                }
                if nesting == 0 {
                    let refresh = cache.now() + options.zoneDelegationRefresh
                    cache.cap(zone: zone, expires: refresh)
                    expires = min(expires, refresh)
                }
                let d = Delegation(zone: found, servers: servers, parentNS: parentNS, parentZone: parentZone, lame: lame)
                cache.store(d, for: name, expires: expires)
                return d
            case .referral(let cut):
                let nsRecords = m.authority.filter { $0.type == .ns && DomainName.equalPresentation($0.owner, cut.text) }
                let nsNames = Array(Self.unique(nsRecords.map { $0.rdata.lowercased() }).prefix(options.maxServersPerZone))
                var next: [NameServer] = []
                for ns in nsNames {
                    // Glue only in the bailiwick of the zone whose server answered: a server for
                    // `test.` has no say over the addresses of `ns.elsewhere.org.`.
                    guard let nsName = DomainName(presentation: ns) else { continue }
                    var addresses: [IPAddress] = []
                    if nsName.isSubdomain(of: zone) {
                        addresses = m.additional.filter { ($0.type == .a || $0.type == .aaaa) && DomainName.equalPresentation($0.owner, ns) }
                            .compactMap { IPAddress($0.rdata) }
                    }
                    if addresses.isEmpty, let known = cache.addresses(of: nsName) { addresses = known }
                    next.append(NameServer(name: nsName.text, addresses: Array(Self.unique(addresses).prefix(options.maxAddressesPerServer))))
                }
                let ttl = min(Double(nsRecords.map(\.ttl).min() ?? 0), options.maxCacheTTL)
                expires = min(expires, cache.now() + ttl)
                cache.store(DelegationCache.Cut(zone: cut, servers: next, parentNS: nsNames, parentZone: zone, expires: cache.now() + ttl,
                                                ds: ChainOfTrust.referralDS(m, for: cut)))
                parentZone = zone
                parentNS = nsNames
                zone = cut
                servers = next
                glueless = 0
            }
        }
        throw .tooManyReferrals(name.text)
    }

    /// Looks up addresses of `zone`'s NS names that came without glue, one at a time,
    /// until `want` servers have addresses or `maxGluelessPerReferral` names were tried.
    func resolveGlueless(_ servers: [NameServer], of zone: DomainName, want: Int, done: Int,
                         nesting: Int, visiting: Set<String>, budget: LookupBudget) async throws(LookupError) -> ([NameServer], Int) {
        var servers = servers
        var tried = done
        for i in servers.indices where servers[i].addresses.isEmpty {
            if servers.filter({ !$0.addresses.isEmpty }).count >= want { break }
            guard let nsName = DomainName(presentation: servers[i].name) else { continue }
            if let known = cache.addresses(of: nsName) {
                servers[i].addresses = Array(known.prefix(options.maxAddressesPerServer))
                continue
            }
            // In-bailiwick NS without glue cannot be resolved through itself.
            if nsName.isSubdomain(of: zone) { continue }
            guard tried < options.maxGluelessPerReferral, nesting < options.maxNestedLookups, !visiting.contains(nsName.text) else { continue }
            tried += 1
            do {
                servers[i].addresses = Array(try await addresses(of: nsName, nesting: nesting + 1, visiting: visiting, budget: budget)
                    .prefix(options.maxAddressesPerServer))
            } catch {
                // A budget that ran out deep inside is this delegation's problem.
                throw error.blaming(zone)
            }
        }
        return (servers, tried)
    }

    /// The addresses of a name server, looked up from the root (or the cache).
    public func addresses(of name: DomainName, nesting: Int, visiting: Set<String>) async -> [IPAddress] {
        (try? await addresses(of: name, nesting: nesting, visiting: visiting, budget: LookupBudget(options: options))) ?? []
    }

    func addresses(of name: DomainName, nesting: Int, visiting: Set<String>, budget: LookupBudget) async throws(LookupError) -> [IPAddress] {
        if let known = cache.addresses(of: name) { return known }
        if let exceeded = budget.takeLookup() { throw .gaveUp(name, exceeded) }
        counters.countLookup()
        let d: Delegation
        do {
            d = try await walk(name, nesting: nesting, visiting: visiting, budget: budget)
        } catch {
            if case .gaveUp = error { throw error }
            cache.store(addresses: [], of: name, ttl: options.negativeCacheTTL)
            return []
        }
        let targets = serverAddresses(d.servers)
        let usable: @Sendable (Message) -> String? = { m in
            guard m.header.flags.contains(.aa) else { return "answered without AA" }
            return m.rcode == .noError || m.rcode == .nxDomain ? nil : "answered \(m.rcode)"
        }
        async let a = askOneAtATime(targets, name, .a, zone: d.zone, budget: budget, usable: usable)
        async let aaaa = askOneAtATime(targets, name, .aaaa, zone: d.zone, budget: budget, usable: usable)
        var out: [IPAddress] = []
        var ttl = options.maxCacheTTL
        for (answer, type) in [(await a, RecordType.a), (await aaaa, .aaaa)] {
            if let exceeded = answer.exceeded { throw .gaveUp(name, exceeded) }
            guard let m = answer.message else { continue }
            let records = m.answers.filter { $0.type == type && DomainName.equalPresentation($0.owner, name.text) }
            out += records.compactMap { IPAddress($0.rdata) }
            if let t = records.map(\.ttl).min() { ttl = min(ttl, Double(t)) }
        }
        cache.store(addresses: out, of: name, ttl: out.isEmpty ? options.negativeCacheTTL : ttl)
        return out
    }

    /// The zone a referral hands over to: NS records in the authority section
    /// for a zone strictly below `zone` that contains `name`.
    static func referralZone(_ m: Message, for name: DomainName, below zone: DomainName) -> DomainName? {
        guard m.rcode == .noError, m.answers.isEmpty || m.answers.allSatisfy({ $0.type != .ns }) else { return nil }
        for rr in m.authority where rr.type == .ns {
            guard let cut = DomainName(presentation: rr.owner) else { continue }
            if cut != zone && cut.isSubdomain(of: zone) && name.isSubdomain(of: cut) { return cut }
        }
        return nil
    }

    static func unique<T: Hashable>(_ items: [T]) -> [T] {
        var seen = Set<T>()
        return items.filter { seen.insert($0).inserted }
    }
}

/// Asks a zone's servers one at a time (see `IterativeResolver.askOneAtATime`).
/// All state behind `state`; engine callbacks and timers may run on any thread.
private final class ServerRace: Sendable {
    struct State {
        var next = 0
        var outstanding = 0
        var finished = false
        var lame: [IterativeResolver.LameServer] = []
        var continuation: CheckedContinuation<IterativeResolver.OneAnswer, Never>?
        /// The time budget's end; cancelled when the race finishes (which releases its handler).
        var deadline: DispatchSourceTimer?
    }

    let targets: [(String, ServerAddress)]
    let template: QueryTemplate
    let zone: DomainName
    let resolver: IterativeResolver
    let budget: LookupBudget
    let usable: @Sendable (Message) -> String?
    private let state = Protected(State())

    init(targets: [(String, ServerAddress)], template: QueryTemplate, zone: DomainName, resolver: IterativeResolver,
         budget: LookupBudget, usable: @escaping @Sendable (Message) -> String?) {
        self.targets = targets
        self.template = template
        self.zone = zone
        self.resolver = resolver
        self.budget = budget
        self.usable = usable
    }

    func begin(_ c: CheckedContinuation<IterativeResolver.OneAnswer, Never>) {
        // The time budget ends the wait even while a server keeps us waiting.
        let seconds = budget.seconds
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + max(0, budget.remainingSeconds))
        timer.setEventHandler { [self] in finish(nil, server: "", exceeded: .time(seconds)) }
        state.withLock { s in
            s.continuation = c
            s.deadline = timer
        }
        timer.activate()
        startNext()
    }

    private func finish(_ m: Message?, server: String, exceeded: LookupBudget.Exceeded?) {
        let (c, lame, timer) = state.withLock { s -> (CheckedContinuation<IterativeResolver.OneAnswer, Never>?, [IterativeResolver.LameServer], DispatchSourceTimer?) in
            guard !s.finished else { return (nil, [], nil) }
            s.finished = true
            defer { s.continuation = nil; s.deadline = nil }
            return (s.continuation, s.lame, s.deadline)
        }
        timer?.cancel()
        c?.resume(returning: .init(message: m, server: server, lame: lame, exceeded: exceeded))
    }

    /// Sends to the next server, if any is left and the budget allows; finishes when nothing is left to wait for.
    private func startNext() {
        enum Move { case send(Int), wait, exhausted, over(LookupBudget.Exceeded) }
        let move = state.withLock { s -> Move in
            if s.finished { return .wait }
            if s.next >= targets.count { return s.outstanding == 0 ? .exhausted : .wait }
            if let e = budget.takeQueries() { return s.outstanding == 0 ? .over(e) : .wait }
            s.next += 1
            s.outstanding += 1
            return .send(s.next - 1)
        }
        switch move {
        case .wait: return
        case .exhausted: finish(nil, server: "", exceeded: nil)
        case .over(let e): finish(nil, server: "", exceeded: e)
        case .send(let i):
            let (label, address) = targets[i]
            resolver.counters.countQuery(toServersOf: zone)
            resolver.engine.submit([QueryRequest(server: address, query: template)], onResult: { [self] r in
                handle(r, label: "\(label) (\(address))")
            }, onComplete: {})
            let wait = resolver.cache.rtt(of: address).map { min(max(3 * $0, 0.15), resolver.options.nextServerAfter) }
                ?? resolver.options.nextServerAfter
            DispatchQueue.global().asyncAfter(deadline: .now() + wait) { [self] in
                // Still no answer from this one: try the next alongside it.
                if state.withLock({ !$0.finished && $0.next == i + 1 }) { startNext() }
            }
        }
    }

    private func handle(_ r: QueryResult, label: String) {
        let cache = resolver.cache
        var failure: String? = nil
        switch r.outcome {
        case .failure(let e):
            failure = e.description
            cache.recordFailure(for: r.request.server)
        case .success(let m):
            if let rtt = r.rtt { cache.recordRTT(rtt, for: r.request.server) }
            if let why = usable(m) {
                failure = why
                cache.recordFailure(for: r.request.server)
            } else {
                state.withLock { $0.outstanding -= 1 }
                finish(m, server: label, exceeded: nil)
                return
            }
        }
        state.withLock { s in
            s.outstanding -= 1
            if let failure, !s.finished { s.lame.append(.init(server: label, zone: zone.text, reason: failure)) }
        }
        startNext()
    }
}

extension DomainName {
    init(validatedRoot: Void) { self = try! DomainName(".") }
}
