#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An IPv4 or IPv6 address, parsed and printed by the C library (inet_pton/inet_ntop)
/// so that every accepted spelling prints in its one canonical form (RFC 5952 for IPv6).
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)                          // host byte order
    case v6(UInt64, UInt64)                  // high and low halves, host byte order

    public init?(_ text: String) {
        if text.contains(":") {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
            let bytes = withUnsafeBytes(of: raw) { Array($0) }
            self.init(v6Bytes: bytes)
        } else {
            // inet_pton accepts only the four-part dotted form; inet_aton's
            // shorthands ("127.1", octal) are deliberately not accepted.
            var raw = in_addr()
            guard inet_pton(AF_INET, text, &raw) == 1 else { return nil }
            self = .v4(UInt32(bigEndian: raw.s_addr))
        }
    }

    init(v6Bytes bytes: [UInt8]) {
        var hi: UInt64 = 0, lo: UInt64 = 0
        for i in 0..<8 { hi = hi << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { lo = lo << 8 | UInt64(bytes[i]) }
        self = .v6(hi, lo)
    }

    public var isIPv6: Bool { if case .v6 = self { return true } else { return false } }

    /// Network-order bytes: 4 or 16 of them.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let v): return (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) }
        case .v6(let hi, let lo):
            return (0..<8).map { UInt8(truncatingIfNeeded: hi >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: lo >> (56 - 8 * $0)) }
        }
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch self {
        case .v4(let v):
            var raw = in_addr(s_addr: v.bigEndian)
            _ = inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count))
        case .v6:
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { dst in
                for (i, b) in bytes.enumerated() { dst[i] = b }
            }
            _ = inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
        }
        let end = buffer.firstIndex(of: 0) ?? buffer.endIndex
        return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True when `self` lies in `network`/`prefixLength` of the same family.
    public func isIn(network: IPAddress, prefixLength: Int) -> Bool {
        switch (self, network) {
        case (.v4(let a), .v4(let n)):
            guard prefixLength > 0 else { return true }
            let mask: UInt32 = prefixLength >= 32 ? .max : ~(UInt32.max >> UInt32(prefixLength))
            return a & mask == n & mask
        case (.v6(let ah, let al), .v6(let nh, let nl)):
            func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? .max : ~(UInt64.max >> UInt64(bits)) }
            return ah & mask(prefixLength) == nh & mask(prefixLength)
                && al & mask(prefixLength - 64) == nl & mask(prefixLength - 64)
        default:
            return false
        }
    }
}

/// Where a DNS server listens: address and port.
public struct ServerAddress: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var ip: IPAddress
    public var port: UInt16

    public init(ip: IPAddress, port: UInt16 = 53) {
        self.ip = ip
        self.port = port
    }

    /// Parses `9.9.9.9`, `9.9.9.9:53`, `2620:fe::fe`, `[2620:fe::fe]:53`.
    public init(parsing text: String) throws(AddressError) {
        let s = text.trimmingSpaces
        guard !s.isEmpty else { throw AddressError(input: text, problem: "empty address") }
        var host = s
        var portText: Substring? = nil
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else {
                throw AddressError(input: text, problem: "'[' without a closing ']'")
            }
            host = String(s[s.index(after: s.startIndex)..<close])
            let rest = s[s.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else {
                    throw AddressError(input: text, problem: "expected ':PORT' after ']'")
                }
                portText = rest.dropFirst()
            }
            guard host.contains(":") else {
                throw AddressError(input: text, problem: "brackets are for IPv6 addresses only")
            }
        } else if s.filter({ $0 == ":" }).count == 1 {
            let parts = s.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = String(parts[0])
            portText = parts[1]
        }
        var port: UInt16 = 53
        if let portText {
            guard let p = UInt16(portText), p > 0, portText.allSatisfy(\.isASCII), !portText.hasPrefix("+") else {
                throw AddressError(input: text, problem: "port '\(TerminalText.escape(String(portText)))' is not a number from 1 to 65535")
            }
            port = p
        }
        guard let ip = IPAddress(host) else {
            let what = host.contains(":") ? "IPv6" : "IPv4"
            throw AddressError(input: text, problem: "'\(TerminalText.escape(host))' is not a valid \(what) address")
        }
        self.init(ip: ip, port: port)
    }

    /// `9.9.9.9`, `9.9.9.9:5353`, `2620:fe::fe`, `[::1]:5353`: the port only when it is not 53.
    public var description: String {
        if port == 53 { return ip.description }
        return ip.isIPv6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    public static func < (lhs: ServerAddress, rhs: ServerAddress) -> Bool {
        if lhs.ip.isIPv6 != rhs.ip.isIPv6 { return !lhs.ip.isIPv6 }
        if lhs.ip != rhs.ip { return lhs.ip.bytes.lexicographicallyPrecedes(rhs.ip.bytes) }
        return lhs.port < rhs.port
    }
}

public struct AddressError: Error, Hashable, Sendable, CustomStringConvertible {
    public let input: String
    public let problem: String
    public var description: String { "bad address '\(TerminalText.escape(input))': \(problem)" }
}
