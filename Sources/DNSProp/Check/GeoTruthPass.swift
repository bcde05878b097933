/// The geo step of a check (issue 14): after every answer is in, the names that some
/// resolver answers differently from the truth get a `GeoTruth` for those resolvers'
/// networks, so that the classifier can tell a CDN's or GeoDNS's other answers from stale
/// ones. Names every resolver agrees on cost no query.
struct GeoTruthPass {
    /// One answer to judge: the question's slot, who answered, what came back.
    struct Answer {
        var slot: Int
        var resolver: Resolver
        var result: QueryResult
        var retried: Bool
        /// The same question asked again with CD=1 after a SERVFAIL (DNSSEC), if it was.
        var checkingDisabled: QueryResult? = nil
    }

    let finder: GeoTruthFinder
    let classifier: VerdictClassifier

    /// `truths[slot]` with `geo` set where some answer to a record question is stale
    /// against the truth as asked from here; the statistics of the extra queries.
    func enrich(_ truths: [Truth], kinds: [CheckQuestion.Kind], answers: [Answer]) async -> ([Truth], GeoStatistics) {
        var out = truths
        var stats = GeoStatistics()
        var addresses: [Int: [IPAddress]] = [:]
        for a in answers where kinds[a.slot] == .record {
            let v = classifier.classify(.init(resolver: a.resolver, result: a.result, truth: truths[a.slot], kind: kinds[a.slot], retriedAfterServfail: a.retried))
            if v.status == .stale { addresses[a.slot, default: []].append(VerdictPolicy.geoNetwork(of: a.resolver).address) }
        }
        for slot in addresses.keys.sorted() {
            let (geo, s) = await finder.geo(for: truths[slot], addresses: addresses[slot]!)
            out[slot].geo = geo
            stats += s
        }
        return (out, stats)
    }
}
