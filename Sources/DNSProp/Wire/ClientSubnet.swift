/// The EDNS Client Subnet option (RFC 7871 §6): which network a query is asked for, and in
/// an answer, the SCOPE the answer holds for. Encoded into and decoded from `EDNSOption`
/// values; hostile values (prefix lengths beyond the family's width, address bytes that do
/// not fit the source prefix, bits set past it, unknown families) decode to nil.
public struct ClientSubnet: Hashable, Sendable, CustomStringConvertible {
    /// RFC 7871 §6 FAMILY: address family numbers of IANA (1 IPv4, 2 IPv6).
    public enum Family: UInt16, Sendable, Hashable {
        case ipv4 = 1
        case ipv6 = 2

        public var bits: Int { self == .ipv4 ? 32 : 128 }
    }

    public var family: Family
    /// SOURCE PREFIX-LENGTH: how many leading bits of `address` are meant.
    public var sourcePrefix: Int
    /// SCOPE PREFIX-LENGTH: 0 in a query; in an answer, the leading bits of the address the
    /// answer holds for (0: for every network).
    public var scopePrefix: Int
    /// The network, with every bit past `sourcePrefix` zero.
    public var address: IPAddress

    /// The network of `address` at `prefix` bits (clamped to the family's width), scope 0:
    /// what a query carries.
    public init(network address: IPAddress, prefix: Int) {
        family = address.isIPv6 ? .ipv6 : .ipv4
        sourcePrefix = max(0, min(prefix, family.bits))
        scopePrefix = 0
        self.address = address.masked(to: sourcePrefix)
    }

    init(family: Family, sourcePrefix: Int, scopePrefix: Int, address: IPAddress) {
        self.family = family
        self.sourcePrefix = sourcePrefix
        self.scopePrefix = scopePrefix
        self.address = address
    }

    /// A resolver's own network as the authorities see it (RFC 7871 §11.1 recommends
    /// at most /24 for IPv4 and /56 for IPv6): the grouping key of the geo truth.
    public static func network(of address: IPAddress) -> ClientSubnet {
        ClientSubnet(network: address, prefix: address.isIPv6 ? 56 : 24)
    }

    /// `127.53.12.0/24`, or `127.53.12.0/24 scope 16` when the scope is set.
    public var description: String {
        "\(address)/\(sourcePrefix)" + (scopePrefix > 0 ? " scope \(scopePrefix)" : "")
    }

    /// The network in the usual notation, without the scope.
    public var networkText: String { "\(address)/\(sourcePrefix)" }

    /// RFC 7871 §6: FAMILY, SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH, then only as many
    /// address bytes as the source prefix needs.
    public var option: EDNSOption {
        let count = (sourcePrefix + 7) / 8
        let value = [UInt8(family.rawValue >> 8), UInt8(family.rawValue & 0xFF), UInt8(sourcePrefix), UInt8(scopePrefix)]
            + address.bytes.prefix(count)
        return EDNSOption(code: EDNSOption.clientSubnetCode, value: value)
    }

    /// The option's value decoded, or nil when it breaks RFC 7871 §6: an unknown family, a
    /// prefix longer than the family's width, an address longer than the source prefix needs
    /// (or shorter), or bits set past the source prefix.
    public static func decode(_ value: [UInt8]) -> ClientSubnet? {
        guard value.count >= 4, let family = Family(rawValue: UInt16(value[0]) << 8 | UInt16(value[1])) else { return nil }
        let source = Int(value[2]), scope = Int(value[3])
        guard source <= family.bits, scope <= family.bits else { return nil }
        let addressBytes = Array(value[4...])
        guard addressBytes.count == (source + 7) / 8 else { return nil }
        let full = addressBytes + [UInt8](repeating: 0, count: family.bits / 8 - addressBytes.count)
        let address: IPAddress
        if family == .ipv4 {
            address = .v4(full.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        } else {
            address = IPAddress(v6Bytes: full)
        }
        guard address.masked(to: source) == address else { return nil }
        return ClientSubnet(family: family, sourcePrefix: source, scopePrefix: scope, address: address)
    }

    /// What an answer to a query carrying `asked` tells about its reach (RFC 7871 §7.3):
    /// nil when the answer carries no ECS option (or more than one, or a malformed one), or one
    /// that does not echo the FAMILY, SOURCE PREFIX-LENGTH and ADDRESS asked; otherwise the
    /// scope, capped at the source prefix (§7.3.1: a longer scope is cached for the source
    /// prefix only).
    public static func answerScope(in message: Message, asked: ClientSubnet) -> Int? {
        let options = (message.edns?.parsedOptions ?? []).filter { $0.code == EDNSOption.clientSubnetCode }
        guard options.count == 1, let echoed = decode(options[0].value),
              echoed.family == asked.family, echoed.sourcePrefix == asked.sourcePrefix,
              echoed.address == asked.address else { return nil }
        return min(echoed.scopePrefix, asked.sourcePrefix)
    }
}

extension IPAddress {
    /// The address with every bit past `prefix` cleared.
    public func masked(to prefix: Int) -> IPAddress {
        switch self {
        case .v4(let v):
            let mask: UInt32 = prefix <= 0 ? 0 : prefix >= 32 ? .max : ~(UInt32.max >> UInt32(prefix))
            return .v4(v & mask)
        case .v6(let hi, let lo):
            func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? .max : ~(UInt64.max >> UInt64(bits)) }
            return .v6(hi & mask(prefix), lo & mask(prefix - 64))
        }
    }
}
