/// EDNS(0) options (RFC 6891 §6.1.2): code, length, value triples in the OPT record's RDATA.
public struct EDNSOption: Hashable, Sendable {
    public var code: UInt16
    public var value: [UInt8]

    public init(code: UInt16, value: [UInt8]) {
        self.code = code
        self.value = value
    }

    /// Name Server Identifier (RFC 5001 §2.3): sent empty in a query, the server's id in an answer.
    public static let nsidCode: UInt16 = 3
    /// Client Subnet (RFC 7871 §6).
    public static let clientSubnetCode: UInt16 = 8
    /// Extended DNS Error (RFC 8914 §2).
    public static let extendedErrorCode: UInt16 = 15

    /// The option in wire form.
    public var wire: [UInt8] {
        [UInt8(code >> 8), UInt8(code & 0xFF), UInt8(value.count >> 8 & 0xFF), UInt8(value.count & 0xFF)] + value
    }

    /// Splits raw OPT RDATA into options; nil when the lengths do not add up.
    public static func parse(_ bytes: [UInt8]) -> [EDNSOption]? {
        var out: [EDNSOption] = []
        var i = 0
        while i < bytes.count {
            guard i + 4 <= bytes.count else { return nil }
            let code = UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard i + 4 + length <= bytes.count else { return nil }
            out.append(EDNSOption(code: code, value: Array(bytes[(i + 4)..<(i + 4 + length)])))
            i += 4 + length
        }
        return out
    }

    /// An NSID as people read it: the text when every byte is printable ASCII (what unbound,
    /// BIND, PowerDNS, Knot Resolver and the big public services send), otherwise lower-case
    /// hex, as dig prints it. Nil for an empty NSID. Still network text: escape before printing.
    public static func siteText(_ nsid: [UInt8]) -> String? {
        guard !nsid.isEmpty else { return nil }
        if nsid.allSatisfy({ (0x20...0x7E).contains($0) }) { return String(decoding: nsid, as: UTF8.self) }
        return nsid.map { b -> String in let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }.joined()
    }
}

/// An Extended DNS Error (RFC 8914): the info code and the optional text.
public struct ExtendedDNSError: Hashable, Sendable, CustomStringConvertible {
    public var infoCode: UInt16
    public var extraText: String

    public init(infoCode: UInt16, extraText: String) {
        self.infoCode = infoCode
        self.extraText = extraText
    }

    /// RFC 8914 §4 names of the codes DNSSEC failures come with (and a few others).
    public var name: String? {
        switch infoCode {
        case 0: return "Other Error"
        case 1: return "Unsupported DNSKEY Algorithm"
        case 2: return "Unsupported DS Digest Type"
        case 3: return "Stale Answer"
        case 4: return "Forged Answer"
        case 5: return "DNSSEC Indeterminate"
        case 6: return "DNSSEC Bogus"
        case 7: return "Signature Expired"
        case 8: return "Signature Not Yet Valid"
        case 9: return "DNSKEY Missing"
        case 10: return "RRSIGs Missing"
        case 11: return "No Zone Key Bit Set"
        case 12: return "NSEC Missing"
        case 13: return "Cached Error"
        case 14: return "Not Ready"
        case 15: return "Blocked"
        case 16: return "Censored"
        case 17: return "Filtered"
        case 18: return "Prohibited"
        case 19: return "Stale NXDOMAIN Answer"
        case 20: return "Not Authoritative"
        case 21: return "Not Supported"
        case 22: return "No Reachable Authority"
        case 23: return "Network Error"
        case 24: return "Invalid Data"
        default: return nil
        }
    }

    /// `EDE 6 (DNSSEC Bogus): text`.
    public var description: String {
        var s = "EDE \(infoCode)"
        if let name { s += " (\(name))" }
        if !extraText.isEmpty { s += ": " + extraText }
        return s
    }
}

extension EDNS {
    /// The options carried, in order (empty when the RDATA does not parse).
    public var parsedOptions: [EDNSOption] { EDNSOption.parse(options) ?? [] }

    /// The NSID the server sent (RFC 5001), if any.
    public var nsid: [UInt8]? { parsedOptions.first { $0.code == EDNSOption.nsidCode }?.value }

    /// Extended DNS Errors (RFC 8914) in the answer.
    public var extendedErrors: [ExtendedDNSError] {
        parsedOptions.filter { $0.code == EDNSOption.extendedErrorCode && $0.value.count >= 2 }.map {
            ExtendedDNSError(infoCode: UInt16($0.value[0]) << 8 | UInt16($0.value[1]),
                             extraText: String(decoding: $0.value.dropFirst(2), as: UTF8.self))
        }
    }
}

extension Message {
    /// The answering site as the server names it: the NSID text (see `EDNSOption.siteText`).
    public var nsidSite: String? { edns?.nsid.flatMap(EDNSOption.siteText) }
}
