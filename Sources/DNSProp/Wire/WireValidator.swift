/// A structural walk over a DNS message before any of it reaches ldns.
///
/// ldns trusts its input more than a tool that talks to hostile servers can:
/// it leaks on several TSIG records (ldns #317) and asserts on some crafted
/// buffers (ldns PR #293). This walk is cheap (no allocation) and rejects what
/// no honest server sends: counts larger than the data, names that run off the
/// end, labels over 63 or names over 255 octets, compression pointers that do
/// not point strictly backwards (the only way to build a loop), and duplicate
/// OPT or TSIG records.
struct WireValidator {
    /// What the walk learnt on the way, used by the decoder.
    struct Summary: Equatable {
        var hasOPT = false
        /// Offsets of the TYPE field of records whose RDATA ldns should not parse (see `ldnsParsedTypes`).
        var opaqueTypeOffsets: [Int] = []
    }

    /// RR types whose RDATA ldns parses field by field. Everything else is handed to
    /// ldns as a private-use type, so ldns keeps the RDATA as one opaque blob (printed
    /// in RFC 3597 generic form): its per-type parsers leak or assert on crafted
    /// input (found by fuzzing: CERT), and dnsprop needs no fields of those types.
    static let ldnsParsedTypes: Set<UInt16> = [1, 2, 5, 6, 12, 15, 16, 28, 33, 39, 41, 43, 46, 47, 48, 50, 51, 257]

    private let bytes: UnsafeRawBufferPointer

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    static func validate(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> Summary {
        guard bytes.count > 0 else { throw .empty }
        guard bytes.count >= 12 else { throw .shortHeader(length: bytes.count) }
        guard bytes.count <= 65535 else { throw .tooLarge(length: bytes.count) }
        return try WireValidator(bytes).walk()
    }

    private func u16(_ at: Int) -> Int { Int(bytes[at]) << 8 | Int(bytes[at + 1]) }

    private func walk() throws(WireError) -> Summary {
        var summary = Summary()
        var offset = 12
        let qdcount = u16(4)
        for _ in 0..<qdcount {
            offset = try skipName(at: offset)
            guard offset + 4 <= bytes.count else { throw .truncatedName(offset: offset) }
            offset += 4
        }
        var tsigCount = 0
        let sections = [("answer", u16(6)), ("authority", u16(8)), ("additional", u16(10))]
        for (section, count) in sections {
            for index in 0..<count {
                let start = offset
                offset = try skipName(at: offset)
                guard offset + 10 <= bytes.count else {
                    throw .truncatedRecord(section: section, index: index, offset: start)
                }
                let type = RecordType(rawValue: UInt16(u16(offset)))
                let rdlength = u16(offset + 8)
                let rdataStart = offset + 10
                guard rdataStart + rdlength <= bytes.count else {
                    throw .rdataOverrun(section: section, index: index, offset: start, rdlength: rdlength)
                }
                guard try rdataFits(type: type, from: rdataStart, length: rdlength) else {
                    throw .rdataMismatch(section: section, index: index, offset: start, type: type.name, rdlength: rdlength)
                }
                if !Self.ldnsParsedTypes.contains(type.rawValue) { summary.opaqueTypeOffsets.append(offset) }
                if type == .opt {
                    if summary.hasOPT { throw .multipleOPT }
                    summary.hasOPT = true
                } else if type == .tsig {
                    tsigCount += 1
                    if tsigCount > 1 { throw .multipleTSIG }
                }
                offset = rdataStart + rdlength
            }
        }
        return summary
    }

    /// Names inside RDATA that ldns decompresses: check them as carefully as owners.
    /// And for the types whose fields ldns reads one by one and whose last field is a
    /// name or has a fixed size: the fields must fill RDLENGTH exactly. ldns does not
    /// check that; given an NS record whose RDLENGTH runs past its name, it reads the
    /// rest of the RDATA as the next record, so the decoded message would hold records
    /// the wire does not (found by the mutation test in HostileWireTests).
    /// Returns false when the fields do not fill the RDATA exactly.
    private func rdataFits(type: RecordType, from start: Int, length: Int) throws(WireError) -> Bool {
        let end = start + length
        func name(at o: Int) throws(WireError) -> Int {
            guard o < end else { throw .truncatedName(offset: o) }
            let next = try skipName(at: o)
            guard next <= end else { throw .truncatedName(offset: o) }
            return next
        }
        switch type {
        case .a: return length == 4
        case .aaaa: return length == 16
        case .ns, .cname, .ptr, .dname:
            return try name(at: start) == end
        case .mx:
            return length > 2 ? try name(at: start + 2) == end : false
        case .srv:
            return length > 6 ? try name(at: start + 6) == end : false
        case .soa:
            let next = try name(at: start)
            return try name(at: next) + 20 == end
        case .rp:
            let next = try name(at: start)
            return try name(at: next) == end
        default:
            return true
        }
    }

    /// Returns the offset just past the name that starts at `offset`.
    private func skipName(at start: Int) throws(WireError) -> Int {
        var offset = start
        var end: Int? = nil          // where the name ends in the original stream
        var wireLength = 0           // octets of the uncompressed name, length bytes included
        var lowestTarget = start     // pointers must go strictly below every earlier position
        while true {
            guard offset < bytes.count else { throw .truncatedName(offset: start) }
            let length = Int(bytes[offset])
            switch length & 0xC0 {
            case 0x00:
                wireLength += length + 1
                guard wireLength <= 255 else { throw .nameTooLong(offset: start) }
                if length == 0 {
                    return end ?? offset + 1
                }
                guard offset + 1 + length <= bytes.count else { throw .truncatedName(offset: start) }
                offset += 1 + length
            case 0xC0:
                guard offset + 1 < bytes.count else { throw .truncatedName(offset: start) }
                let target = (length & 0x3F) << 8 | Int(bytes[offset + 1])
                guard target >= 12, target < bytes.count else {
                    throw .pointerOutOfRange(offset: offset, target: target)
                }
                guard target < lowestTarget else {
                    throw .pointerNotBackward(offset: offset, target: target)
                }
                if end == nil { end = offset + 2 }
                lowestTarget = target
                offset = target
            default:
                // 0x40 (extended label, RFC 6891 §5 retired it) and 0x80 (reserved).
                throw .badLabelType(offset: offset, byte: UInt8(length))
            }
        }
    }
}
