/// Answers kept by the network they hold for (RFC 7871 §7.3.1): an answer given for
/// 192.0.2.0/24 with scope 16 holds for every network in 192.0.0.0/16, so a later
/// question for 192.0.77.0/24 is answered here without asking again. Scope 0 holds
/// for every network of the family. A value type; the geo truth keeps one per name.
public struct ScopeCache<Value: Sendable & Hashable>: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        /// The network asked, with the scope the answer came with.
        public var subnet: ClientSubnet
        public var value: Value
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    /// Keeps `value` for `subnet.address` masked to `subnet.scopePrefix` (capped at the
    /// source prefix). A second answer for the same scope network replaces the first.
    public mutating func insert(_ value: Value, for subnet: ClientSubnet) {
        var s = subnet
        s.scopePrefix = max(0, min(s.scopePrefix, s.sourcePrefix))
        entries.removeAll { $0.subnet.family == s.family && $0.subnet.scopePrefix == s.scopePrefix
            && $0.subnet.address.masked(to: s.scopePrefix) == s.address.masked(to: s.scopePrefix) }
        entries.append(Entry(subnet: s, value: value))
    }

    /// The entry that holds for `network` (an address or a network of the same family):
    /// the one with the longest scope that covers it, or nil.
    public func lookup(_ network: ClientSubnet) -> Entry? {
        entries.filter { e in
            e.subnet.family == network.family && e.subnet.scopePrefix <= network.sourcePrefix
                && network.address.isIn(network: e.subnet.address, prefixLength: e.subnet.scopePrefix)
        }.max { $0.subnet.scopePrefix < $1.subnet.scopePrefix }
    }
}
