/// What the walk from the root has learnt, kept with the TTLs the servers gave:
/// zone cuts (a zone's name servers and the parent's NS set), name-server
/// addresses (memoised look-ups, failures included for a short while), which
/// zone holds a name, and each server address's round-trip time.
///
/// One cache serves every name, type and round that shares it: keep one for a
/// whole `check` (the default of `IterativeResolver.init`) and one for a whole
/// `watch` session (pass the same cache to each round's `IterativeResolver`),
/// so that the root and TLD servers are asked again only when a delegation's
/// TTL runs out. All state is behind `state` (a lock), so sharing is safe.
public final class DelegationCache: Sendable {
    /// A delegation as the parent zone published it (servers, glue addresses in bailiwick).
    struct Cut: Sendable {
        var zone: DomainName
        var servers: [IterativeResolver.NameServer]
        var parentNS: [String]
        var parentZone: DomainName?
        var expires: Double
        /// The DS RRset (or proof of none) the parent's referral carried, with its RRSIGs (ChainOfTrust).
        var ds: Message? = nil
    }

    struct Addresses: Sendable {
        var ips: [IPAddress]
        var expires: Double
    }

    struct NameEntry: Sendable {
        var delegation: IterativeResolver.Delegation
        var expires: Double
    }

    struct State: Sendable {
        var cuts: [DomainName: Cut] = [:]
        var addresses: [DomainName: Addresses] = [:]
        var names: [DomainName: NameEntry] = [:]
        /// Smoothed round-trip time per server address, in seconds; failures raise it.
        var rtt: [ServerAddress: Double] = [:]
        /// Walks in progress for a user's name, joined by concurrent truths for the same name.
        var flights: [DomainName: Task<IterativeResolver.Delegation, any Error>] = [:]
        /// DNSKEY sets and signed answers the chain of trust asked for (ChainOfTrust), by "name type".
        var signed: [String: NameEntrySigned] = [:]
    }

    struct NameEntrySigned: Sendable {
        var message: Message
        var expires: Double
    }

    private let state = Protected(State())
    /// Seconds on a monotonic clock; replaceable so tests can age the cache.
    let now: @Sendable () -> Double
    /// Entries of each kind before expired ones are purged (and, if still over, all dropped).
    let maxEntries: Int

    public convenience init() {
        self.init(maxEntries: 10_000, now: { Double(MonotonicClock.now()) / 1e9 })
    }

    init(maxEntries: Int, now: @escaping @Sendable () -> Double) {
        self.maxEntries = maxEntries
        self.now = now
    }

    /// Forgets everything (delegations, addresses, round-trip times).
    public func removeAll() {
        state.withLock { s in
            s.cuts.removeAll()
            s.addresses.removeAll()
            s.names.removeAll()
            s.rtt.removeAll()
            s.signed.removeAll()
        }
    }

    /// Number of zone cuts held (expired ones included until purged).
    public var zoneCount: Int { state.withLock { $0.cuts.count } }

    // MARK: zone cuts

    /// The deepest unexpired cut at or above `name`.
    func deepestCut(for name: DomainName) -> Cut? {
        let t = now()
        return state.withLock { s -> Cut? in
            var n = name
            while true {
                if let c = s.cuts[n], c.expires > t { return c }
                if n.isRoot { return nil }
                n = n.parent
            }
        }
    }

    func store(_ cut: Cut) {
        guard cut.expires > now() else { return }
        state.withLock { s in
            Self.makeRoom(&s.cuts, max: maxEntries, now: now()) { $0.expires }
            s.cuts[cut.zone] = cut
        }
    }

    /// Keeps addresses found later for a cut's glueless servers, so the next walk need not look them up.
    func update(zone: DomainName, servers: [IterativeResolver.NameServer]) {
        state.withLock { s in
            guard var c = s.cuts[zone] else { return }
            c.servers = servers
            s.cuts[zone] = c
        }
    }

    /// Shortens a cut's life (never lengthens it).
    func cap(zone: DomainName, expires: Double) {
        state.withLock { s in
            guard var c = s.cuts[zone], c.expires > expires else { return }
            c.expires = expires
            s.cuts[zone] = c
        }
    }

    // MARK: name-server addresses

    func addresses(of name: DomainName) -> [IPAddress]? {
        let t = now()
        return state.withLock { s in
            guard let a = s.addresses[name], a.expires > t else { return nil }
            return a.ips
        }
    }

    func store(addresses ips: [IPAddress], of name: DomainName, ttl: Double) {
        guard ttl > 0 else { return }
        let expires = now() + ttl
        state.withLock { s in
            Self.makeRoom(&s.addresses, max: maxEntries, now: now()) { $0.expires }
            s.addresses[name] = Addresses(ips: ips, expires: expires)
        }
    }

    // MARK: names

    func delegation(for name: DomainName) -> IterativeResolver.Delegation? {
        let t = now()
        return state.withLock { s in
            guard let e = s.names[name], e.expires > t else { return nil }
            return e.delegation
        }
    }

    func store(_ d: IterativeResolver.Delegation, for name: DomainName, expires: Double) {
        guard expires > now() else { return }
        state.withLock { s in
            Self.makeRoom(&s.names, max: maxEntries, now: now()) { $0.expires }
            s.names[name] = NameEntry(delegation: d, expires: expires)
        }
    }

    /// The walk in progress for `name`, or `start()`'s, registered as the one in progress.
    func flight(for name: DomainName, start: () -> Task<IterativeResolver.Delegation, any Error>)
        -> (task: Task<IterativeResolver.Delegation, any Error>, isNew: Bool) {
        state.withLock { s in
            if let t = s.flights[name] { return (t, false) }
            let t = start()
            s.flights[name] = t
            return (t, true)
        }
    }

    func endFlight(for name: DomainName) {
        state.withLock { s in _ = s.flights.removeValue(forKey: name) }
    }

    // MARK: DNSSEC (ChainOfTrust)

    /// The unexpired cut for exactly `zone`.
    func cut(of zone: DomainName) -> Cut? {
        let t = now()
        return state.withLock { s in s.cuts[zone].flatMap { $0.expires > t ? $0 : nil } }
    }

    /// The DS answer the parent's referral to `zone` carried, while the cut lasts.
    func referralDS(for zone: DomainName) -> Message? { cut(of: zone)?.ds }

    func signedAnswer(_ name: DomainName, _ type: RecordType) -> Message? {
        let t = now()
        return state.withLock { s in s.signed["\(name.text) \(type.rawValue)"].flatMap { $0.expires > t ? $0.message : nil } }
    }

    func store(signedAnswer m: Message, _ name: DomainName, _ type: RecordType, ttl: Double) {
        guard ttl > 0 else { return }
        let expires = now() + ttl
        state.withLock { s in
            Self.makeRoom(&s.signed, max: maxEntries, now: now()) { $0.expires }
            s.signed["\(name.text) \(type.rawValue)"] = NameEntrySigned(message: m, expires: expires)
        }
    }

    // MARK: round-trip times

    /// Unknown servers are assumed this slow (Unbound's UNKNOWN_SERVER_NICENESS, 376 ms),
    /// so a known fast server is preferred and a known slow one is not stuck to.
    static let unknownRTT = 0.376

    func rtt(of server: ServerAddress) -> Double? { state.withLock { $0.rtt[server] } }

    func recordRTT(_ seconds: Double, for server: ServerAddress) {
        state.withLock { s in
            if let old = s.rtt[server] { s.rtt[server] = 0.7 * old + 0.3 * seconds } else { s.rtt[server] = seconds }
        }
    }

    /// A failure (timeout, refusal, bad answer) pushes the server behind the others.
    func recordFailure(for server: ServerAddress) {
        state.withLock { s in
            s.rtt[server] = min(max((s.rtt[server] ?? Self.unknownRTT) * 2, 1.0), 10.0)
        }
    }

    private static func makeRoom<K, V>(_ d: inout [K: V], max: Int, now: Double, expires: (V) -> Double) {
        guard d.count >= max else { return }
        d = d.filter { expires($0.value) > now }
        if d.count >= max { d.removeAll() }
    }
}

/// Queries the walk sent, by the level of the zone whose servers were asked.
public struct IterationStatistics: Sendable, Hashable, CustomStringConvertible {
    public var rootQueries = 0
    public var tldQueries = 0
    /// Queries to servers of zones below the TLDs (the names' own zones, name servers' zones).
    public var authoritativeQueries = 0
    /// Look-ups of name servers' addresses (NS names without glue) that needed queries.
    public var nameServerLookups = 0
    /// Walks answered from the cache without any query.
    public var cachedDelegations = 0

    public init() {}

    public var totalQueries: Int { rootQueries + tldQueries + authoritativeQueries }

    public var description: String {
        "\(rootQueries) to root servers, \(tldQueries) to TLD servers, \(authoritativeQueries) to other authoritative servers"
            + " (\(nameServerLookups) name-server address look-up\(nameServerLookups == 1 ? "" : "s"), \(cachedDelegations) delegation\(cachedDelegations == 1 ? "" : "s") from cache)"
    }

    public static func - (a: IterationStatistics, b: IterationStatistics) -> IterationStatistics {
        var d = IterationStatistics()
        d.rootQueries = a.rootQueries - b.rootQueries
        d.tldQueries = a.tldQueries - b.tldQueries
        d.authoritativeQueries = a.authoritativeQueries - b.authoritativeQueries
        d.nameServerLookups = a.nameServerLookups - b.nameServerLookups
        d.cachedDelegations = a.cachedDelegations - b.cachedDelegations
        return d
    }
}

/// The counters behind `IterativeResolver.statistics`; all state behind the mutex.
final class IterationCounters: Sendable {
    private let state = Protected(IterationStatistics())
    var snapshot: IterationStatistics { state.withLock { $0 } }

    func countQuery(toServersOf zone: DomainName) {
        state.withLock { s in
            if zone.isRoot { s.rootQueries += 1 } else if zone.labels.count == 1 { s.tldQueries += 1 } else { s.authoritativeQueries += 1 }
        }
    }

    func countLookup() { state.withLock { $0.nameServerLookups += 1 } }
    func countCachedDelegation() { state.withLock { $0.cachedDelegations += 1 } }
}

/// What one truth (or one delegation look-up) may spend, as a recursive resolver
/// bounds the work one client question can cause. Shared by the truth's whole
/// walk: nested name-server look-ups and CNAME targets included.
final class LookupBudget: Sendable {
    struct Used: Sendable { var queries = 0; var lookups = 0 }
    let maxQueries: Int
    let maxLookups: Int
    let seconds: Double
    /// Monotonic seconds after which nothing more is sent.
    let deadline: Double
    private let used = Protected(Used())

    init(options: IterativeResolver.Options) {
        maxQueries = options.maxQueriesPerTruth
        maxLookups = options.maxNameServerLookupsPerTruth
        seconds = options.maxSecondsPerTruth
        deadline = Double(MonotonicClock.now()) / 1e9 + options.maxSecondsPerTruth
    }

    enum Exceeded: Sendable, Hashable { case queries(Int), lookups(Int), time(Double) }

    var remainingSeconds: Double { deadline - Double(MonotonicClock.now()) / 1e9 }

    /// Takes `n` queries from the budget, or says which limit stops them.
    func takeQueries(_ n: Int = 1) -> Exceeded? {
        if remainingSeconds <= 0 { return .time(seconds) }
        return used.withLock { u in
            guard u.queries + n <= maxQueries else { return .queries(maxQueries) }
            u.queries += n
            return nil
        }
    }

    func takeLookup() -> Exceeded? {
        if remainingSeconds <= 0 { return .time(seconds) }
        return used.withLock { u in
            guard u.lookups < maxLookups else { return .lookups(maxLookups) }
            u.lookups += 1
            return nil
        }
    }

    var queriesUsed: Int { used.withLock { $0.queries } }
}
