import Foundation

/// What the registry says of a domain, read from an RDAP domain object (RFC 9083 §5.3):
/// its EPP statuses, the registration, expiration and last-changed events (§4.5), the
/// registrar (the entity with the role "registrar", its vCard "fn", §5.1) and the name
/// servers the registry holds (§5.2). Every string is network text: escape it before a terminal.
public struct RegistrationRecord: Sendable, Equatable {
    /// `ldhName` as served, lower case.
    public var ldhName: String?
    public var statuses: [EPPStatus]
    public var registration: Double?
    public var expiration: Double?
    public var lastChanged: Double?
    public var registrar: String?
    public var registrarIANAID: String?
    /// Lower case, absolute (`ns1.example.net.`).
    public var nameservers: [String]

    public init(ldhName: String? = nil, statuses: [EPPStatus] = [], registration: Double? = nil, expiration: Double? = nil,
                lastChanged: Double? = nil, registrar: String? = nil, registrarIANAID: String? = nil, nameservers: [String] = []) {
        self.ldhName = ldhName
        self.statuses = statuses
        self.registration = registration
        self.expiration = expiration
        self.lastChanged = lastChanged
        self.registrar = registrar
        self.registrarIANAID = registrarIANAID
        self.nameservers = nameservers
    }

    public var hold: EPPStatus? { statuses.first(where: \.isHold) }
    public var redemption: EPPStatus? { statuses.first(where: \.isRedemption) }
    public var pendingDelete: EPPStatus? { statuses.first(where: \.isPendingDelete) }
    public var renewal: EPPStatus? { statuses.first(where: \.isRenewal) }
}

/// Reads an RDAP domain response into a `RegistrationRecord`, defensively: a document from the
/// network may be huge, nested without end, of the wrong types or full of control characters.
public enum RDAPDomainParser {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case tooLarge(Int), tooDeep(Int), notJSON, notADomain(String), errorDocument(Int?, String)
        public var description: String {
            switch self {
            case .tooLarge(let n): return "the RDAP document is larger than \(n) bytes"
            case .tooDeep(let n): return "the RDAP document nests deeper than \(n) levels"
            case .notJSON: return "the RDAP server's answer is not a JSON object"
            case .notADomain(let c): return "the RDAP document is not a domain object (objectClassName \(c))"
            case .errorDocument(let code, let title): return "the RDAP server answered an error" + (code.map { " \($0)" } ?? "") + (title.isEmpty ? "" : ": \(title)")
            }
        }
    }

    public static let maxBytes = 1 << 20
    public static let maxDepth = 64
    static let maxItems = 64
    static let maxText = 200

    /// Rejects nesting deeper than `limit` before any parser sees the document (a recursive
    /// parser would use one stack frame per level).
    static func nestingDepth(_ data: Data, limit: Int) -> Int? {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for byte in data {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
                if depth > limit { return nil }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    public static func parse(_ data: Data) throws(Failure) -> RegistrationRecord {
        guard data.count <= maxBytes else { throw .tooLarge(maxBytes) }
        guard nestingDepth(data, limit: maxDepth) != nil else { throw .tooDeep(maxDepth) }
        guard let object = try? JSONSerialization.jsonObject(with: data), let top = object as? [String: Any] else { throw .notJSON }
        if let code = top["errorCode"] {
            throw .errorDocument((code as? NSNumber)?.intValue, text(top["title"]) ?? "")
        }
        if let cls = top["objectClassName"], text(cls)?.lowercased() != "domain" {
            throw .notADomain(text(cls) ?? "of the wrong type")
        }
        var record = RegistrationRecord()
        record.ldhName = text(top["ldhName"])?.lowercased()
        var seen = Set<String>()
        for s in array(top["status"]) {
            guard let t = text(s) else { continue }
            let status = EPPStatus(rdap: t)
            if seen.insert(status.name).inserted { record.statuses.append(status) }
        }
        for e in array(top["events"]) {
            guard let event = e as? [String: Any], let action = text(event["eventAction"])?.lowercased(),
                  let date = text(event["eventDate"]).flatMap(RFC3339.parse) else { continue }
            switch action {
            case "registration": record.registration = record.registration ?? date
            case "expiration": record.expiration = record.expiration ?? date
            case "last changed": record.lastChanged = max(record.lastChanged ?? date, date)
            default: break
            }
        }
        for e in array(top["entities"]) {
            guard let entity = e as? [String: Any],
                  array(entity["roles"]).contains(where: { text($0)?.lowercased() == "registrar" }) else { continue }
            record.registrar = vcardFN(entity["vcardArray"]) ?? text(entity["handle"])
            for id in array(entity["publicIds"]) {
                if let p = id as? [String: Any], text(p["type"])?.lowercased() == "iana registrar id" { record.registrarIANAID = text(p["identifier"]) }
            }
            break
        }
        for n in array(top["nameservers"]) {
            guard let ns = n as? [String: Any], let name = text(ns["ldhName"]) ?? text(ns["unicodeName"]) else { continue }
            var absolute = name.lowercased()
            if !absolute.hasSuffix(".") { absolute += "." }
            if !record.nameservers.contains(absolute) { record.nameservers.append(absolute) }
        }
        return record
    }

    /// jCard (RFC 7095): `["vcard", [["fn", {}, "text", "Name"], …]]`.
    static func vcardFN(_ value: Any?) -> String? {
        let outer = array(value)
        guard outer.count == 2, text(outer[0]) == "vcard" else { return nil }
        for property in array(outer[1]) {
            let p = array(property)
            if p.count >= 4, text(p[0])?.lowercased() == "fn", let name = text(p[3]), !name.trimmingSpaces.isEmpty { return name }
        }
        return nil
    }

    /// An array of at most `maxItems` elements; anything else is empty.
    static func array(_ value: Any?) -> [Any] { (value as? [Any]).map { Array($0.prefix(maxItems)) } ?? [] }
    /// A string, clipped; anything else is nil.
    static func text(_ value: Any?) -> String? { (value as? String).map { String($0.prefix(maxText)) } }
}
