/// When will a stale cache let go, at the latest?
///
/// A cached answer's TTL gives the earliest moment it can go (`expiresAt`). It is
/// not an upper bound: when the resolver's cached delegation of the zone is itself
/// stale or parked, the resolver re-fetches an expired record from the name servers
/// that delegation still points to, and gets the old answer again with a fresh TTL
/// (seen with BIND 9 in the testbed; with .com's two-day delegation TTL this is how
/// parked answers outlived the Marketo renewal). So:
///
/// - delegation not current: latest = when the cached NS set expires + the TTL the
///   servers it still follows hand out for this question (asked directly, RD=0);
/// - otherwise: latest = the answer's own expiry.
///
/// A re-fetched TTL is capped by the largest default ceiling among the four common
/// implementations, since which one a public resolver runs is unknown: BIND's
/// `max-cache-ttl` (7 days) for positive answers; for negative ones Knot Resolver's
/// 1 day (it has no separate negative cap; BIND's `max-ncache-ttl` is 3 h, Unbound's
/// `cache-max-negative-ttl` and PowerDNS Recursor's `max-negative-ttl` 1 h). The TTL a
/// resolver reports for its own cached answer is already within its ceiling.
/// docs/expiry.md explains the reasoning and cites the sources.
public enum ExpiryBound {
    /// BIND 9 `max-cache-ttl` default (Unbound `cache-max-ttl` and PowerDNS `max-cache-ttl`: 1 day).
    public static let positiveCeiling: UInt32 = 604_800
    /// Knot Resolver `cache.max_ttl()` default, which also bounds negative answers
    /// (BIND `max-ncache-ttl` 3 h; Unbound `cache-max-negative-ttl`, PowerDNS `max-negative-ttl` 1 h).
    public static let negativeCeiling: UInt32 = 86_400

    /// What the servers a stale delegation still points to give for a question.
    public struct Refetch: Sendable, Hashable {
        /// The TTL they hand out (negative answers: min(SOA TTL, MINIMUM)); nil when none answered.
        public var ttl: UInt32?
        public var negative: Bool
        public init(ttl: UInt32?, negative: Bool) {
            self.ttl = ttl
            self.negative = negative
        }
    }

    static func capped(_ ttl: UInt32, negative: Bool) -> (UInt32, String?) {
        let ceiling = negative ? negativeCeiling : positiveCeiling
        guard ttl > ceiling else { return (ttl, nil) }
        return (ceiling, negative ? "capped at 1 day, Knot Resolver's cache.max_ttl (BIND 3 h, Unbound and PowerDNS 1 h)"
                                    : "capped at 7 days, BIND's max-cache-ttl (Unbound, PowerDNS, Knot: 1 day)")
    }

    static func duration(_ s: UInt32) -> String { Timestamp.duration(Double(s)) }

    /// The bound for one non-current verdict. `delegation` is the same resolver's verdict
    /// on the zone's NS set; `refetch` what the servers in that stale delegation give now.
    /// Knot Resolver accepts an NS set of equal rank from the child (the parking servers'
    /// authority section) in the last 5 s + 1 % of a cached NS set's TTL
    /// (lib/cache/entry_list.c `entry_h_splice`, `is_expiring`): a record re-fetched then
    /// re-arms the stale delegation once more. The window, with 2 s of margin.
    public static func rearmWindow(nsTTL: UInt32) -> Double { 5 + 0.01 * Double(nsTTL) + 2 }

    public static func apply(to v: Verdict, delegation: Verdict?, refetch: Refetch?, refetchNS: Refetch? = nil) -> Verdict {
        var v = v
        guard v.status.isNotConverged else { return v }
        let negative = v.status == .nxdomain || v.status == .nodata || (v.rcode == .nxDomain)
        if let d = delegation, d.status.isNotConverged, d.status != .servfail, let nsExpiry = d.expiresAt, !d.answers.isEmpty {
            v.followsStaleDelegation = d.answers
            let servers = d.answers.prefix(2).joined(separator: " ") + (d.answers.count > 2 ? " …" : "")
            if let refetch, let ttl = refetch.ttl {
                let (t, cap) = capped(ttl, negative: refetch.negative)
                v.latestAt = nsExpiry + Double(t)
                v.latestBasis = "its cached delegation (\(servers)) lasts \(duration(UInt32(max(0, nsExpiry - v.checkedAt)))) more, "
                    + "and those servers hand out \(v.question.type.name) with \(duration(t))" + (cap.map { " (\($0))" } ?? "")
            } else if let own = v.ttl {
                let (t, cap) = capped(own, negative: negative)
                v.latestAt = nsExpiry + Double(t)
                v.latestBasis = "its cached delegation (\(servers)) lasts \(duration(UInt32(max(0, nsExpiry - v.checkedAt)))) more; "
                    + "those servers did not answer, so the answer's own TTL \(duration(t)) is assumed" + (cap.map { " (\($0))" } ?? "")
            } else {
                v.latestAt = nsExpiry
                v.latestBasis = "its cached delegation (\(servers)) lasts \(duration(UInt32(max(0, nsExpiry - v.checkedAt)))) more"
            }
            // A re-fetch when the answer expires may land in the NS set's last seconds and re-arm it
            // (Knot Resolver): then the old servers are followed for one more NS TTL.
            if !v.isDelegationCheck, let e = v.expiresAt, e < nsExpiry, nsExpiry - e <= rearmWindow(nsTTL: d.ttl ?? 0),
               let nsTTL = refetchNS?.ttl {
                let (n, _) = capped(nsTTL, negative: false)
                let (t, _) = capped(refetch?.ttl ?? v.ttl ?? 0, negative: refetch?.negative ?? negative)
                let rearmed = e + Double(n) + Double(t)
                if rearmed > (v.latestAt ?? 0) {
                    v.latestAt = rearmed
                    v.latestBasis = (v.latestBasis ?? "") + "; it expires in the delegation's last seconds, when a re-fetch can re-arm the delegation once "
                        + "(Knot Resolver accepts the servers' own NS set then): \(duration(n)) more of it, then \(duration(t))"
                }
            }
            // Never earlier than the answer's own expiry.
            if let e = v.expiresAt, let l = v.latestAt, l < e { v.latestAt = e }
            return v
        }
        guard let ttl = v.ttl else { return v }
        let (t, cap) = capped(ttl, negative: negative)
        v.latestAt = v.checkedAt + Double(t)
        v.latestBasis = "its own TTL" + (cap.map { " (\($0))" } ?? "") + (delegation == nil ? "" : "; its delegation is current")
        return v
    }
}
