/// A DNS response code, including EDNS extended codes (RFC 6895 §2.3).
///
/// NXDOMAIN, SERVFAIL and REFUSED are answers, not errors: they travel inside a
/// decoded `Message`, never as a thrown error.
public enum ResponseCode: Hashable, Sendable, CustomStringConvertible {
    case noError        // 0, RFC 1035
    case formErr        // 1, RFC 1035
    case servFail       // 2, RFC 1035
    case nxDomain       // 3, RFC 1035
    case notImp         // 4, RFC 1035
    case refused        // 5, RFC 1035
    case yxDomain       // 6, RFC 2136
    case yxRRSet        // 7, RFC 2136
    case nxRRSet        // 8, RFC 2136
    case notAuth        // 9, RFC 2136
    case notZone        // 10, RFC 2136
    case dsoTypeNI      // 11, RFC 8490
    case badVers        // 16, RFC 6891
    case badCookie      // 23, RFC 7873
    case unknown(UInt16)

    public init(rawValue: UInt16) {
        switch rawValue {
        case 0: self = .noError
        case 1: self = .formErr
        case 2: self = .servFail
        case 3: self = .nxDomain
        case 4: self = .notImp
        case 5: self = .refused
        case 6: self = .yxDomain
        case 7: self = .yxRRSet
        case 8: self = .nxRRSet
        case 9: self = .notAuth
        case 10: self = .notZone
        case 11: self = .dsoTypeNI
        case 16: self = .badVers
        case 23: self = .badCookie
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: UInt16 {
        switch self {
        case .noError: return 0
        case .formErr: return 1
        case .servFail: return 2
        case .nxDomain: return 3
        case .notImp: return 4
        case .refused: return 5
        case .yxDomain: return 6
        case .yxRRSet: return 7
        case .nxRRSet: return 8
        case .notAuth: return 9
        case .notZone: return 10
        case .dsoTypeNI: return 11
        case .badVers: return 16
        case .badCookie: return 23
        case .unknown(let v): return v
        }
    }

    /// The IANA mnemonic, or `RCODEnnn` for unassigned values.
    public var name: String {
        switch self {
        case .noError: return "NOERROR"
        case .formErr: return "FORMERR"
        case .servFail: return "SERVFAIL"
        case .nxDomain: return "NXDOMAIN"
        case .notImp: return "NOTIMP"
        case .refused: return "REFUSED"
        case .yxDomain: return "YXDOMAIN"
        case .yxRRSet: return "YXRRSET"
        case .nxRRSet: return "NXRRSET"
        case .notAuth: return "NOTAUTH"
        case .notZone: return "NOTZONE"
        case .dsoTypeNI: return "DSOTYPENI"
        case .badVers: return "BADVERS"
        case .badCookie: return "BADCOOKIE"
        case .unknown(let v): return "RCODE\(v)"
        }
    }
    public var description: String { name }

    public init?(name: String) {
        let upper = name.uppercased()
        for v: UInt16 in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 23] where ResponseCode(rawValue: v).name == upper {
            self.init(rawValue: v)
            return
        }
        guard upper.hasPrefix("RCODE"), let v = UInt16(upper.dropFirst(5)), v < 4096, !upper.dropFirst(5).hasPrefix("+") else { return nil }
        self.init(rawValue: v)
    }
}
