/// A DNS resource record type (RFC 1035 §3.2.2 and later registrations).
///
/// A struct rather than an enum so that every 16-bit value is representable:
/// types without a mnemonic print as `TYPEnnn` (RFC 3597 §5).
public struct RecordType: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RecordType(rawValue: 1)
    public static let ns = RecordType(rawValue: 2)
    public static let cname = RecordType(rawValue: 5)
    public static let soa = RecordType(rawValue: 6)
    public static let wks = RecordType(rawValue: 11)
    public static let ptr = RecordType(rawValue: 12)
    public static let hinfo = RecordType(rawValue: 13)
    public static let mx = RecordType(rawValue: 15)
    public static let txt = RecordType(rawValue: 16)
    public static let rp = RecordType(rawValue: 17)
    public static let aaaa = RecordType(rawValue: 28)
    public static let loc = RecordType(rawValue: 29)
    public static let srv = RecordType(rawValue: 33)
    public static let naptr = RecordType(rawValue: 35)
    public static let dname = RecordType(rawValue: 39)
    public static let opt = RecordType(rawValue: 41)
    public static let ds = RecordType(rawValue: 43)
    public static let sshfp = RecordType(rawValue: 44)
    public static let rrsig = RecordType(rawValue: 46)
    public static let nsec = RecordType(rawValue: 47)
    public static let dnskey = RecordType(rawValue: 48)
    public static let nsec3 = RecordType(rawValue: 50)
    public static let nsec3param = RecordType(rawValue: 51)
    public static let tlsa = RecordType(rawValue: 52)
    public static let cds = RecordType(rawValue: 59)
    public static let cdnskey = RecordType(rawValue: 60)
    public static let svcb = RecordType(rawValue: 64)
    public static let https = RecordType(rawValue: 65)
    public static let spf = RecordType(rawValue: 99)
    public static let tkey = RecordType(rawValue: 249)
    public static let tsig = RecordType(rawValue: 250)
    public static let ixfr = RecordType(rawValue: 251)
    public static let axfr = RecordType(rawValue: 252)
    public static let any = RecordType(rawValue: 255)
    public static let uri = RecordType(rawValue: 256)
    public static let caa = RecordType(rawValue: 257)

    private static let mnemonics: [(RecordType, String)] = [
        (.a, "A"), (.ns, "NS"), (.cname, "CNAME"), (.soa, "SOA"), (.wks, "WKS"), (.ptr, "PTR"),
        (.hinfo, "HINFO"), (.mx, "MX"), (.txt, "TXT"), (.rp, "RP"), (.aaaa, "AAAA"), (.loc, "LOC"),
        (.srv, "SRV"), (.naptr, "NAPTR"), (.dname, "DNAME"), (.opt, "OPT"), (.ds, "DS"),
        (.sshfp, "SSHFP"), (.rrsig, "RRSIG"), (.nsec, "NSEC"), (.dnskey, "DNSKEY"), (.nsec3, "NSEC3"),
        (.nsec3param, "NSEC3PARAM"), (.tlsa, "TLSA"), (.cds, "CDS"), (.cdnskey, "CDNSKEY"),
        (.svcb, "SVCB"), (.https, "HTTPS"), (.spf, "SPF"), (.tkey, "TKEY"), (.tsig, "TSIG"),
        (.ixfr, "IXFR"), (.axfr, "AXFR"), (.any, "ANY"), (.uri, "URI"), (.caa, "CAA"),
    ]
    private static let nameByValue: [UInt16: String] = Dictionary(
        uniqueKeysWithValues: mnemonics.map { ($0.0.rawValue, $0.1) })
    private static let valueByName: [String: UInt16] = Dictionary(
        uniqueKeysWithValues: mnemonics.map { ($0.1, $0.0.rawValue) })

    /// The mnemonic (`AAAA`), or `TYPEnnn` for types without one.
    public var name: String { Self.nameByValue[rawValue] ?? "TYPE\(rawValue)" }
    public var description: String { name }

    /// Parses a mnemonic (any case) or the generic `TYPEnnn` form.
    public init?(name: String) {
        let upper = name.uppercased()
        if let value = Self.valueByName[upper] {
            self.rawValue = value
        } else if upper.hasPrefix("TYPE"), let value = UInt16(upper.dropFirst(4)), !upper.dropFirst(4).hasPrefix("+") {
            self.rawValue = value
        } else {
            return nil
        }
    }

    /// Types whose RDATA holds domain names that compare case-insensitively.
    public var rdataHasNames: Bool {
        switch self {
        case .ns, .cname, .dname, .ptr, .mx, .soa, .srv, .rp, .naptr, .svcb, .https: return true
        default: return false
        }
    }

    public static func < (lhs: RecordType, rhs: RecordType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A DNS class (RFC 1035 §3.2.4). Almost always IN.
public struct RecordClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let `in` = RecordClass(rawValue: 1)
    public static let ch = RecordClass(rawValue: 3)
    public static let hs = RecordClass(rawValue: 4)
    public static let none = RecordClass(rawValue: 254)
    public static let any = RecordClass(rawValue: 255)

    public var name: String {
        switch rawValue {
        case 1: return "IN"
        case 3: return "CH"
        case 4: return "HS"
        case 254: return "NONE"
        case 255: return "ANY"
        default: return "CLASS\(rawValue)"
        }
    }
    public var description: String { name }

    public init?(name: String) {
        let upper = name.uppercased()
        switch upper {
        case "IN": self = .in
        case "CH": self = .ch
        case "HS": self = .hs
        case "NONE": self = .none
        case "ANY": self = .any
        default:
            guard upper.hasPrefix("CLASS"), let v = UInt16(upper.dropFirst(5)), !upper.dropFirst(5).hasPrefix("+") else { return nil }
            self.rawValue = v
        }
    }
}
