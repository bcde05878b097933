/// When `watch` should not ask a resolver a question: a query that arrives in the
/// last seconds of a cached record's TTL can make the resolver refresh the record
/// ahead of time, and a resolver whose cached delegation is stale refreshes it from
/// the stale (parking) servers: the poll would extend the very cache it watches.
///
/// What the four common implementations do by default (docs/expiry.md cites the sources):
/// - BIND 9: `prefetch 2 9` is on: a query with ≤ 2 s of TTL left refreshes a record
///   whose original TTL was ≥ 9 s (not negative answers).
/// - Knot Resolver: the `predict` module (loaded by Debian's default configuration)
///   refreshes a record queried with less than 5 s + 1 % of its original TTL left.
/// - Unbound: `prefetch: no` by default; when on, the last 10 % of the TTL.
/// - PowerDNS Recursor: `refresh-on-ttl-perc=0` (off) by default; when set, that percentage.
///
/// So a (resolver, question) whose non-current answer is about to expire is not asked
/// from `window` seconds before its expiry until a second after it, when a query
/// finds the record gone instead of refreshing it. While a resolver's stale delegation
/// of a zone is in that stretch, no question about a name in the zone is asked either:
/// the re-fetch it causes would come back with the stale servers' NS set, which Knot
/// Resolver accepts then, re-arming the delegation. `--poll-anyway` turns this off.
public enum PollSchedule {
    /// The guarded stretch before an expiry: Knot's 5 s + 1 % covers BIND's 2 s; a second of margin.
    public static func window(originalTTL: UInt32?) -> Double {
        6 + 0.01 * Double(originalTTL ?? 0)
    }

    /// Until when not to ask, if a query made between `start` and `start + duration`
    /// would land in the window before `verdict`'s expiry. `originalTTL` is the largest
    /// TTL seen for this answer (the resolver's original TTL is at least that).
    public static func holdBack(_ verdict: Verdict, originalTTL: UInt32?, start: Double, duration: Double) -> Double? {
        guard verdict.status.isNotConverged, let expiry = currentExpiry(verdict) else { return nil }
        let w = window(originalTTL: max(originalTTL ?? 0, verdict.ttl ?? 0))
        guard start + duration >= expiry - w, start < expiry + 1 else { return nil }
        return expiry + 1
    }

    /// When the record the resolver holds now runs out: its TTL at the last look. A verdict
    /// served past the expiry an earlier round announced keeps that earlier `expiresAt` (to
    /// say so), but the resolver re-fetched the record and counts down a new TTL, whose last
    /// seconds are the ones not to ask in.
    static func currentExpiry(_ verdict: Verdict) -> Double? {
        let byTTL = verdict.ttl.map { verdict.checkedAt + Double($0) }
        switch (verdict.expiresAt, byTTL) {
        case let (e?, t?): return max(e, t)
        case let (e, t): return e ?? t
        }
    }
}
