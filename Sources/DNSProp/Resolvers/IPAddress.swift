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
        if case .v4(let v) = self { return Self.dottedQuad(v) }
        return cLibraryDescription
    }

    /// IPv4 in dotted-quad form, written without the C library (a report prints thousands);
    /// `cLibraryDescription` is the reference it is tested against.
    static func dottedQuad(_ v: UInt32) -> String {
        String(unsafeUninitializedCapacity: 15) { out in
            var n = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                let octet = Int(truncatingIfNeeded: v >> UInt32(shift)) & 0xFF
                if octet >= 100 { out[n] = UInt8(48 + octet / 100); n += 1 }
                if octet >= 10 { out[n] = UInt8(48 + octet / 10 % 10); n += 1 }
                out[n] = UInt8(48 + octet % 10); n += 1
                if shift > 0 { out[n] = 0x2E; n += 1 }
            }
            return n
        }
    }

    /// The address as the C library prints it (inet_ntop).
    var cLibraryDescription: String {
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
        if let simple = Self.simpleIPv4(text) { self = simple } else { try self.init(parsingGenerally: text) }
    }

    /// Every accepted spelling (brackets, IPv6, spaces around it), and the errors.
    init(parsingGenerally text: String) throws(AddressError) {
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

    /// The common spellings `a.b.c.d` and `a.b.c.d:port` read straight from the bytes (a resolver
    /// list has thousands); nil for anything else (spaces, leading zeros, IPv6, errors), which the
    /// general parser takes. Where this gives an address, the general parser gives the same.
    static func simpleIPv4(_ text: String) -> ServerAddress? {
        var text = text
        return text.withUTF8 { b -> ServerAddress? in
            var i = 0, value: UInt32 = 0
            for part in 0..<4 {
                var octet = 0, digits = 0
                while i < b.count, b[i] >= 0x30, b[i] <= 0x39, digits < 3 {
                    octet = octet * 10 + Int(b[i] - 0x30); digits += 1; i += 1
                }
                guard digits > 0, octet <= 255, !(digits > 1 && b[i - digits] == 0x30) else { return nil }
                value = value << 8 | UInt32(octet)
                if part < 3 { guard i < b.count, b[i] == 0x2E else { return nil }; i += 1 }
            }
            var port = 53
            if i < b.count {
                guard b[i] == 0x3A else { return nil }
                i += 1
                let start = i
                port = 0
                while i < b.count, b[i] >= 0x30, b[i] <= 0x39, i - start < 5 { port = port * 10 + Int(b[i] - 0x30); i += 1 }
                guard i == b.count, i > start, b[start] != 0x30, port <= 65535 else { return nil }
            }
            return ServerAddress(ip: .v4(value), port: UInt16(port))
        }
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
