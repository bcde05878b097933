/// A domain's status as the registry keeps it: an EPP status value (RFC 5731 §2.3), which RDAP
/// publishes under the names of the RDAP JSON Values registry. RFC 8056 §2 maps one to the
/// other ("client hold" ↔ clientHold, "active" ↔ ok, "associated" ↔ linked…); `init(rdap:)`
/// takes either spelling, since servers send both.
public struct EPPStatus: Hashable, Sendable, CustomStringConvertible {
    /// The EPP name (`clientHold`), or the text as served for a value outside RFC 8056.
    public let name: String
    /// Whether the value is one of RFC 8056's.
    public let isKnown: Bool

    /// RFC 8056 §2: RDAP status value → EPP status value.
    static let rfc8056: [String: String] = [
        "add period": "addPeriod",
        "auto renew period": "autoRenewPeriod",
        "client delete prohibited": "clientDeleteProhibited",
        "client hold": "clientHold",
        "client renew prohibited": "clientRenewProhibited",
        "client transfer prohibited": "clientTransferProhibited",
        "client update prohibited": "clientUpdateProhibited",
        "inactive": "inactive",
        "associated": "linked",
        "active": "ok",
        "pending create": "pendingCreate",
        "pending delete": "pendingDelete",
        "pending renew": "pendingRenew",
        "pending restore": "pendingRestore",
        "pending transfer": "pendingTransfer",
        "pending update": "pendingUpdate",
        "redemption period": "redemptionPeriod",
        "renew period": "renewPeriod",
        "server delete prohibited": "serverDeleteProhibited",
        "server renew prohibited": "serverRenewProhibited",
        "server transfer prohibited": "serverTransferProhibited",
        "server update prohibited": "serverUpdateProhibited",
        "server hold": "serverHold",
        "transfer period": "transferPeriod",
    ]
    /// EPP name, lower-cased → EPP name, for servers that publish the EPP spelling.
    private static let eppByLowercase: [String: String] = Dictionary(uniqueKeysWithValues: rfc8056.values.map { ($0.lowercased(), $0) })

    public init(rdap text: String) {
        let key = text.trimmingSpaces.lowercased()
        if let epp = Self.rfc8056[key] ?? Self.eppByLowercase[key.replacingOccurrences(of: " ", with: "")] {
            name = epp
            isKnown = true
        } else {
            name = String(text.prefix(64))
            isKnown = false
        }
    }

    public init(epp: String) { self.init(rdap: epp) }

    /// The RDAP spelling of a known status ("client hold"), else the name.
    public var rdapName: String { Self.rfc8056.first { $0.value == name }?.key ?? name }
    public var description: String { name }

    public var isHold: Bool { name == "clientHold" || name == "serverHold" }
    public var isRedemption: Bool { name == "redemptionPeriod" || name == "pendingRestore" }
    public var isPendingDelete: Bool { name == "pendingDelete" }
    /// A renewal the registry has just taken (the grace periods after one).
    public var isRenewal: Bool { name == "autoRenewPeriod" || name == "renewPeriod" }
}
