/// A decoded DNS message as plain Swift values.
///
/// Everything here is `Sendable` and owns no C memory: the ldns packet it was
/// built from is freed before a `Message` is returned (see `MessageDecoder`).
public struct Message: Hashable, Sendable {
    public var header: Header
    public var questions: [Question]
    public var answers: [ResourceRecord]
    public var authority: [ResourceRecord]
    public var additional: [ResourceRecord]
    /// The OPT pseudo-record's fields, when the message carried one.
    public var edns: EDNS?

    public init(header: Header, questions: [Question], answers: [ResourceRecord],
                authority: [ResourceRecord], additional: [ResourceRecord], edns: EDNS?) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authority = authority
        self.additional = additional
        self.edns = edns
    }

    /// The full response code: the header's 4 bits extended by EDNS's upper 8 (RFC 6891 §6.1.3).
    public var rcode: ResponseCode { header.rcode }
}

public struct Header: Hashable, Sendable {
    public var id: UInt16
    public var opcode: UInt8
    public var rcode: ResponseCode
    public var flags: Flags

    public init(id: UInt16, opcode: UInt8, rcode: ResponseCode, flags: Flags) {
        self.id = id
        self.opcode = opcode
        self.rcode = rcode
        self.flags = flags
    }

    public struct Flags: OptionSet, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        public static let qr = Flags(rawValue: 1 << 0)
        public static let aa = Flags(rawValue: 1 << 1)
        public static let tc = Flags(rawValue: 1 << 2)
        public static let rd = Flags(rawValue: 1 << 3)
        public static let ra = Flags(rawValue: 1 << 4)
        public static let ad = Flags(rawValue: 1 << 5)
        public static let cd = Flags(rawValue: 1 << 6)

        /// Lower-case names in dig's order, e.g. `qr rd ra`.
        public var names: [String] {
            let all: [(Flags, String)] = [(.qr, "qr"), (.aa, "aa"), (.tc, "tc"), (.rd, "rd"),
                                          (.ra, "ra"), (.ad, "ad"), (.cd, "cd")]
            return all.filter { contains($0.0) }.map(\.1)
        }
        public var description: String { names.joined(separator: " ") }
    }
}

public struct Question: Hashable, Sendable, CustomStringConvertible {
    /// Presentation form, absolute (trailing dot), with ldns's `\DDD` escapes for unusual bytes.
    public var name: String
    public var type: RecordType
    public var recordClass: RecordClass

    public init(name: String, type: RecordType, recordClass: RecordClass = .in) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }

    /// True when both questions ask the same thing; names compare case-insensitively (RFC 4343).
    public func matches(_ other: Question) -> Bool {
        type == other.type && recordClass == other.recordClass && DomainName.equalPresentation(name, other.name)
    }

    public var description: String { "\(name) \(recordClass) \(type)" }
}

public struct ResourceRecord: Hashable, Sendable, CustomStringConvertible {
    /// Owner name in presentation form, absolute.
    public var owner: String
    public var type: RecordType
    public var recordClass: RecordClass
    public var ttl: UInt32
    /// RDATA fields in presentation form, one string per field (e.g. MX: `["10", "mail.example."]`).
    public var rdataFields: [String]

    public init(owner: String, type: RecordType, recordClass: RecordClass = .in, ttl: UInt32, rdataFields: [String]) {
        self.owner = owner
        self.type = type
        self.recordClass = recordClass
        self.ttl = ttl
        self.rdataFields = rdataFields
    }

    /// RDATA as one presentation string (`10 mail.example.`).
    public var rdata: String { rdataFields.count == 1 ? rdataFields[0] : rdataFields.joined(separator: " ") }

    /// RDATA normalised for comparison: names in it lower-cased (RFC 4343), so
    /// `NS1.Example.` equals `ns1.example.`. TXT and other free text keep their case.
    public var comparableRdata: String { type.rdataHasNames ? rdata.lowercasedIfNeeded : rdata }

    public var description: String { "\(owner) \(ttl) \(recordClass) \(type) \(rdata)" }
}

/// EDNS(0) fields of the OPT pseudo-record (RFC 6891).
public struct EDNS: Hashable, Sendable {
    public var udpPayloadSize: UInt16
    public var version: UInt8
    public var dnssecOK: Bool
    /// The upper 8 bits of the extended rcode, as sent.
    public var extendedRcode: UInt8
    /// Raw option bytes (code/length/value triples), unparsed.
    public var options: [UInt8]

    public init(udpPayloadSize: UInt16, version: UInt8, dnssecOK: Bool, extendedRcode: UInt8, options: [UInt8]) {
        self.udpPayloadSize = udpPayloadSize
        self.version = version
        self.dnssecOK = dnssecOK
        self.extendedRcode = extendedRcode
        self.options = options
    }
}

extension Message {
    /// How long a negative answer (NXDOMAIN, NODATA) may be cached: min(SOA TTL, SOA MINIMUM)
    /// of the SOA in the authority section (RFC 2308 §5); nil without an SOA.
    public var negativeCacheTTL: UInt32? {
        guard let soa = authority.first(where: { $0.type == .soa }) else { return nil }
        let minimum = soa.rdataFields.count >= 7 ? UInt32(soa.rdataFields[6]) ?? soa.ttl : soa.ttl
        return min(soa.ttl, minimum)
    }
}
