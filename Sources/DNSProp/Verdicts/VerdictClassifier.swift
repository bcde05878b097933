/// Turns one resolver's result into a verdict against the truth. Pure: it does
/// not know or care where the answer came from (a local query or a remote probe).
public struct VerdictClassifier: Sendable {
    public var signatures: ParkingSignatures

    public init(signatures: ParkingSignatures = .bundled) { self.signatures = signatures }

    public struct Input: Sendable {
        public var resolver: Resolver
        public var result: QueryResult
        public var truth: Truth
        public var kind: CheckQuestion.Kind
        public var retriedAfterServfail: Bool
        /// A SERVFAIL asked again with CD=1 (checking disabled): what came back.
        public var checkingDisabledResult: QueryResult? = nil
        public init(resolver: Resolver, result: QueryResult, truth: Truth, kind: CheckQuestion.Kind = .record, retriedAfterServfail: Bool = false) {
            self.resolver = resolver
            self.result = result
            self.truth = truth
            self.kind = kind
            self.retriedAfterServfail = retriedAfterServfail
        }
        public var question: CheckQuestion { CheckQuestion(name: truth.name, type: truth.type, kind: kind) }
    }

    public func classify(_ input: Input) -> Verdict {
        let r = input.result
        let q = r.request.query.question
        var v = Verdict(resolver: input.resolver, question: input.question, status: .error, reason: "",
                        rttMs: r.rtt.map { ($0 * 1_000_000).rounded() / 1000 }, attempts: r.attempts,
                        transport: r.transport, retriedAfterServfail: input.retriedAfterServfail,
                        checkedAt: r.completedAt)
        let message: Message
        switch r.outcome {
        case .failure(let e):
            if case .timeout = e { v.status = .timeout } else { v.status = .error }
            v.reason = e.description
            return v
        case .success(let m):
            message = m
        }
        v.rcode = message.rcode
        v.site = message.nsidSite
        v.authenticatedData = message.header.flags.contains(.ad)
        v.extendedErrors = message.edns?.extendedErrors ?? []
        let filtering = input.resolver.tags.contains(.filtering) ? " (a filtering resolver)" : ""
        let chain = AnswerChain.extract(from: message.answers, name: q.name, type: q.type)
        v.answers = chain.map { $0.type == q.type ? $0.rdata : "\($0.type.name) \($0.rdata)" }

        switch message.rcode {
        case .servFail:
            v.status = .servfail
            if let cause = DNSSECFailure.classify(servfail: message, checkingDisabled: input.checkingDisabledResult) {
                v.dnssecFailure = cause
                v.reason = cause.reason
            } else {
                v.reason = "SERVFAIL" + DNSSECFailure.extendedErrorText(v.extendedErrors)
                    + (input.retriedAfterServfail ? " (also when asked again)" : "")
                    + (input.checkingDisabledResult != nil ? "; SERVFAIL with checking disabled too, so not a DNSSEC failure" : "")
            }
            return v
        case .refused:
            v.status = .refused
            v.reason = "REFUSED: the resolver does not answer this client"
            return v
        case .noError, .nxDomain:
            break
        default:
            v.status = .error
            v.reason = "answered \(message.rcode.name)"
            return v
        }
        // A referral or an authoritative-only answer is not what a recursive resolver gives.
        if message.rcode == .noError && chain.isEmpty && !message.header.flags.contains(.ra)
            && message.authority.contains(where: { $0.type == .ns }) && !message.authority.contains(where: { $0.type == .soa }) {
            v.status = .error
            v.reason = "not a recursive answer (a referral; recursion not available)"
            return v
        }

        guard let truth = input.truth.answer ?? input.truth.expectedValues.map({ _ in TruthAnswer.data([]) }) else {
            v.status = .error
            v.reason = "no truth to compare with: \(input.truth.failure ?? "unknown")"
            return v
        }

        let now = r.completedAt
        func expire(_ ttl: UInt32) { v.ttl = ttl; v.expiresAt = now + Double(ttl) }
        // RFC 2181 §8: a TTL with the top bit set is to be treated as zero.
        func effective(_ ttl: UInt32) -> UInt32 { ttl > UInt32(Int32.max) ? 0 : ttl }

        if message.rcode == .nxDomain || chain.isEmpty {
            // Negative answer: cached for the SOA's TTL (capped by its MINIMUM, RFC 2308).
            let soa = message.authority.first { $0.type == .soa }
            let negTTL = message.negativeCacheTTL.map(effective)
            let isNX = message.rcode == .nxDomain
            let truthNegative: Bool
            switch truth {
            case .nxdomain: truthNegative = isNX
            case .nodata: truthNegative = !isNX
            case .data(let d): truthNegative = d.isEmpty && input.truth.expectedValues?.isEmpty == true
            }
            if truthNegative {
                v.status = .current
                v.reason = isNX ? "NXDOMAIN, as the truth" : "no \(q.type.name) records, as the truth"
                return v
            }
            if case .nxdomain = truth, !isNX {
                v.status = .stale
                v.reason = "no data, but the name does not exist any more"
            } else if case .nodata = truth, isNX {
                v.status = .nxdomain
                v.reason = "NXDOMAIN, but the name exists (no \(q.type.name) records)"
            } else {
                v.status = isNX ? .nxdomain : .nodata
                v.reason = isNX ? "NXDOMAIN cached while the truth has data\(filtering)" : "no \(q.type.name) records while the truth has some\(filtering)"
            }
            if let negTTL {
                expire(negTTL)
                v.reason += "; negative cache expires in \(negTTL) s (SOA \(soa!.owner))"
            } else {
                v.reason += "; no SOA in the answer, so its cache time is unknown"
            }
            if let soa, let m = signatures.match([soa]) {
                v.parking = m
                v.status = .parked
                v.reason = "parked: \(m.provider) (\(m.indicator)); " + v.reason
            }
            return v
        }

        // Data: compare with the truth.
        let matches: Bool
        if let expected = input.truth.expectedValues {
            matches = Self.finalValuesEqual(chain, type: q.type, expected: expected)
        } else {
            matches = AnswerChain.comparisonKey(chain) == AnswerChain.comparisonKey(truth.records)
        }
        let minTTL = chain.map { effective($0.ttl) }.min()
        if matches {
            v.status = .current
            v.reason = "matches the truth"
            v.ttl = minTTL
            return v
        }
        // A lame or mismatched delegation: the parent's NS set, as the TLD delegates now.
        if input.truth.expectedValues == nil, q.type == .ns, let parent = input.truth.parentNS,
           AnswerChain.finalValues(chain, type: .ns) == Set(parent) {
            v.status = .current
            v.reason = "the parent's NS set: follows the TLD's delegation, which differs from the zone's own"
            v.ttl = minTTL
            return v
        }
        // CDN and GeoDNS names: the same CNAME chain, and final values the authority gives to someone.
        if input.truth.expectedValues == nil, let geo = input.truth.geo {
            let cnames = chain.filter { $0.type == .cname }, truthCNAMEs = truth.records.filter { $0.type == .cname }
            if AnswerChain.comparisonKey(cnames) == AnswerChain.comparisonKey(truthCNAMEs),
               let m = VerdictPolicy.geoMatch(values: AnswerChain.finalValues(chain, type: q.type), geo: geo,
                                             network: VerdictPolicy.geoNetwork(of: input.resolver)) {
                v.status = .current
                v.reason = m.detail
                v.geo = m
                v.ttl = minTTL
                return v
            }
        }
        if let minTTL { expire(minTTL) }
        let truthParked = signatures.match(truth.records)
        if let m = signatures.match(chain + message.authority.filter { $0.type == .soa }), truthParked == nil {
            v.status = .parked
            v.parking = m
            v.reason = "parked: \(m.provider) \(m.kind) (\(m.indicator))"
        } else {
            v.status = .stale
            v.reason = input.truth.expectedValues != nil ? "differs from the expected value" : "differs from the authoritative data"
            v.reason += filtering
            if let tm = truthParked { v.reason += "; note: the truth itself matches \(tm.provider) (\(tm.indicator))" }
            if let geo = input.truth.geo, geo.varies {
                v.reason += "; the authority gives \(geo.everyAnswer.count) answers by location, none of them this one"
            }
        }
        if let minTTL {
            v.reason += minTTL == 0 ? "; TTL 0: served past its expiry (RFC 8767 serve-stale?)" : "; cached for \(minTTL) s more"
            if input.kind == .delegation {
                v.reason += " (records fetched through this delegation may outlive it by their own TTL)"
            }
        }
        return v
    }
}
