/// Why a byte string is not a DNS message dnsprop will accept.
///
/// Decoding never traps: every malformed input maps to one of these, with the
/// offset where the problem was found so that a report can point at it.
public enum WireError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case shortHeader(length: Int)
    case tooLarge(length: Int)
    case truncatedName(offset: Int)
    case nameTooLong(offset: Int)
    case badLabelType(offset: Int, byte: UInt8)
    case pointerOutOfRange(offset: Int, target: Int)
    case pointerNotBackward(offset: Int, target: Int)
    case truncatedRecord(section: String, index: Int, offset: Int)
    case rdataOverrun(section: String, index: Int, offset: Int, rdlength: Int)
    /// The RDATA length does not fit the record type's fields (ldns would read the rest as another record).
    case rdataMismatch(section: String, index: Int, offset: Int, type: String, rdlength: Int)
    case multipleOPT
    case multipleTSIG
    /// ldns refused the message; the status code and its text from `ldns_get_errorstr_by_id`.
    case ldns(status: Int32, message: String)

    public var description: String {
        switch self {
        case .empty: return "empty message"
        case .shortHeader(let n): return "message of \(n) bytes is shorter than the 12-byte DNS header"
        case .tooLarge(let n): return "message of \(n) bytes is larger than 65535"
        case .truncatedName(let o): return "name at offset \(o) runs past the end of the message"
        case .nameTooLong(let o): return "name at offset \(o) exceeds 255 octets"
        case .badLabelType(let o, let b): return "label length byte 0x\(String(b, radix: 16)) at offset \(o): over 63, or an obsolete extended label type"
        case .pointerOutOfRange(let o, let t): return "compression pointer at offset \(o) points outside the message (to \(t))"
        case .pointerNotBackward(let o, let t): return "compression pointer at offset \(o) does not point backwards (to \(t)): possible loop"
        case .truncatedRecord(let s, let i, let o): return "\(s) record #\(i + 1) at offset \(o) runs past the end of the message"
        case .rdataOverrun(let s, let i, let o, let n): return "\(s) record #\(i + 1) at offset \(o) declares \(n) bytes of RDATA beyond the end of the message"
        case .rdataMismatch(let s, let i, let o, let t, let n): return "\(s) record #\(i + 1) at offset \(o): \(n) bytes of RDATA do not fit a \(t) record"
        case .multipleOPT: return "message carries more than one OPT record"
        case .multipleTSIG: return "message carries more than one TSIG record"
        case .ldns(let status, let message): return "ldns could not parse the message: \(message) (status \(status))"
        }
    }
}
