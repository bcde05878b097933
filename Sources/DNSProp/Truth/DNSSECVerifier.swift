import CLDNS

// The DNSSEC checks the chain of trust needs, done by ldns's own functions
// (ldns_verify_rrsig_keylist_time, ldns_rr_compare_ds, ldns_calc_keytag) on
// records already in hand. The only file of the DNSSEC work that touches ldns
// pointers: every ldns list is made and freed inside one `withRRList` call, and
// only Swift values leave.

/// What the signatures over one RRset say, checked against a set of keys.
public enum SignatureCheck: Sendable, Hashable {
    /// At least one RRSIG verifies with one of the keys and is within its validity period.
    case valid(keyTags: [UInt16])
    /// No RRSIG covers the RRset.
    case unsigned
    /// The signature is cryptographically good but its validity period has ended (expiration as YYYYMMDDHHMMSS).
    case expired(String)
    /// The signature is good but its validity period has not begun (inception as YYYYMMDDHHMMSS).
    case notYetValid(String)
    /// No key with the key tag and algorithm the RRSIGs name.
    case noMatchingKey(keyTags: [UInt16])
    /// The signature does not verify (ldns's reason).
    case bogus(String)
    /// The records could not be handed to ldns.
    case malformed(String)

    public var isValid: Bool { if case .valid = self { return true } else { return false } }
}

public enum DNSSECVerifier {
    /// Checks `signatures` (RRSIGs; those not covering the RRset's type are ignored) over
    /// `rrset` with `keys` (DNSKEYs) at `time` (seconds since the epoch).
    public static func verify(rrset: [ResourceRecord], signatures: [ResourceRecord], keys: [ResourceRecord], at time: Int) -> SignatureCheck {
        guard let type = rrset.first?.type else { return .unsigned }
        let covering = signatures.filter { $0.type == .rrsig && $0.rdataFields.first.flatMap(RecordType.init(name:)) == type }
        guard !covering.isEmpty else { return .unsigned }
        var failures: [SignatureCheck] = []
        let result: Result<SignatureCheck, LDNSRecordError> = withRRList(rrset) { set in
            withRRList(keys.filter { $0.type == .dnskey }) { keyList in
                for signature in covering {
                    let outcome: Result<SignatureCheck, LDNSRecordError> = withRRList([signature]) { sigList in
                        guard let sig = ldns_rr_list_rr(sigList, 0) else { return .success(.malformed("no RRSIG")) }
                        let status = ldns_verify_rrsig_keylist_time(set, sig, keyList, time_t(time), nil)
                        let fields = signature.rdataFields
                        switch status {
                        case LDNS_STATUS_OK:
                            return .success(.valid(keyTags: fields.count > 6 ? [UInt16(fields[6]) ?? 0] : []))
                        case LDNS_STATUS_CRYPTO_SIG_EXPIRED:
                            return .success(.expired(fields.count > 4 ? fields[4] : "?"))
                        case LDNS_STATUS_CRYPTO_SIG_NOT_INCEPTED:
                            return .success(.notYetValid(fields.count > 5 ? fields[5] : "?"))
                        case LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY, LDNS_STATUS_CRYPTO_NO_DNSKEY:
                            return .success(.noMatchingKey(keyTags: fields.count > 6 ? [UInt16(fields[6]) ?? 0] : []))
                        default:
                            return .success(.bogus(LDNSText.status(status)))
                        }
                    }
                    switch outcome {
                    case .success(let check):
                        if check.isValid { return .success(check) }
                        failures.append(check)
                    case .failure(let e):
                        failures.append(.malformed(e.description))
                    }
                }
                return .success(worst(failures))
            }
        }
        switch result {
        case .success(let check): return check
        case .failure(let e): return .malformed(e.description)
        }
    }

    /// The failure that explains most: an expired or not-yet-valid signature (the key was
    /// right) before a missing key, before a bad signature; several missing keys merged.
    static func worst(_ failures: [SignatureCheck]) -> SignatureCheck {
        func rank(_ c: SignatureCheck) -> Int {
            switch c {
            case .expired: return 0
            case .notYetValid: return 1
            case .bogus: return 2
            case .noMatchingKey: return 3
            case .malformed: return 4
            case .unsigned, .valid: return 5
            }
        }
        let tags = failures.flatMap { c -> [UInt16] in if case .noMatchingKey(let t) = c { return t } else { return [] } }
        guard let first = failures.min(by: { rank($0) < rank($1) }) else { return .unsigned }
        if case .noMatchingKey = first { return .noMatchingKey(keyTags: Array(Set(tags)).sorted()) }
        return first
    }

    /// The DNSKEYs of `keys` that one of `ds` (DS records) stands for: same owner, key tag,
    /// algorithm, and digest of the key (ldns_rr_compare_ds computes it with the DS's digest type).
    public static func keysMatching(ds: [ResourceRecord], keys: [ResourceRecord]) -> [ResourceRecord] {
        let dnskeys = keys.filter { $0.type == .dnskey }
        var matched: [ResourceRecord] = []
        for key in dnskeys {
            let hit: Result<Bool, LDNSRecordError> = withRRList([key]) { keyList in
                withRRList(ds.filter { $0.type == .ds }) { dsList in
                    guard let k = ldns_rr_list_rr(keyList, 0) else { return .success(false) }
                    for i in 0..<ldns_rr_list_rr_count(dsList) {
                        if let d = ldns_rr_list_rr(dsList, i), ldns_rr_compare_ds(d, k) { return .success(true) }
                    }
                    return .success(false)
                }
            }
            if case .success(true) = hit { matched.append(key) }
        }
        return matched
    }

    /// Whether ldns can check a DS record: its key algorithm (`ldns_key_algo_supported`) and
    /// its digest type (1 SHA-1, 2 SHA-256, 4 SHA-384). A zone whose DS records are all of
    /// kinds a validator cannot check is treated as unsigned (RFC 4035 §5.2).
    public static func canCheck(ds: ResourceRecord) -> Bool {
        guard ds.type == .ds, ds.rdataFields.count >= 4, let algorithm = Int32(ds.rdataFields[1]),
              let digest = Int(ds.rdataFields[2]) else { return false }
        return [1, 2, 4].contains(digest) && ldns_key_algo_supported(algorithm) != 0
    }

    /// The key tag of a DNSKEY (RFC 4034 Appendix B), nil when ldns cannot read the record.
    public static func keyTag(_ dnskey: ResourceRecord) -> UInt16? {
        guard dnskey.type == .dnskey else { return nil }
        let tag: Result<UInt16?, LDNSRecordError> = withRRList([dnskey]) { list in
            .success(ldns_rr_list_rr(list, 0).map { ldns_calc_keytag($0) })
        }
        return (try? tag.get()) ?? nil
    }

    /// Reads one record in presentation form (a DS or DNSKEY line of a trust-anchor file);
    /// nil with ldns's reason when it is not a record.
    public static func parseRecord(_ line: String) -> Result<ResourceRecord, LDNSRecordError> {
        var rr: UnsafeMutablePointer<ldns_rr>? = nil
        let status = ldns_rr_new_frm_str(&rr, line, 3600, nil, nil)
        guard status == LDNS_STATUS_OK, let rr else {
            if let rr { ldns_rr_free(rr) }
            return .failure(LDNSRecordError(record: line, reason: LDNSText.status(status)))
        }
        defer { ldns_rr_free(rr) }
        let count = ldns_rr_rd_count(rr)
        var fields: [String] = []
        for i in 0..<count { if let rdf = ldns_rr_rdf(rr, i) { fields.append(LDNSText.presentation(rdf)) } }
        return .success(ResourceRecord(owner: LDNSText.string(ldns_rr_owner(rr)),
                                       type: RecordType(rawValue: UInt16(ldns_rr_get_type(rr).rawValue)),
                                       recordClass: RecordClass(rawValue: UInt16(ldns_rr_get_class(rr).rawValue)),
                                       ttl: ldns_rr_ttl(rr), rdataFields: fields))
    }

    /// Builds an ldns list of `records` (in presentation form), lends it to `body`, and frees it.
    private static func withRRList<T>(_ records: [ResourceRecord],
                                      _ body: (UnsafeMutablePointer<ldns_rr_list>) -> Result<T, LDNSRecordError>) -> Result<T, LDNSRecordError> {
        guard let list = ldns_rr_list_new() else { return .failure(LDNSRecordError(record: "", reason: "out of memory")) }
        defer { ldns_rr_list_deep_free(list) }
        for record in records {
            var rr: UnsafeMutablePointer<ldns_rr>? = nil
            let status = ldns_rr_new_frm_str(&rr, record.description, 0, nil, nil)
            guard status == LDNS_STATUS_OK, let rr else {
                if let rr { ldns_rr_free(rr) }
                return .failure(LDNSRecordError(record: record.description, reason: LDNSText.status(status)))
            }
            if !ldns_rr_list_push_rr(list, rr) {
                ldns_rr_free(rr)
                return .failure(LDNSRecordError(record: record.description, reason: "out of memory"))
            }
        }
        return body(list)
    }
}

/// A record ldns would not read, and why.
public struct LDNSRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    public var record: String
    public var reason: String
    public var description: String { "\(reason): \(record)" }
}
