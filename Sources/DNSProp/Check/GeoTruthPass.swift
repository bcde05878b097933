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

    /// What the classifier is given for `answer` against `truth`.
    static func input(_ a: Answer, truth: Truth, kind: CheckQuestion.Kind) -> VerdictClassifier.Input {
        var input = VerdictClassifier.Input(resolver: a.resolver, result: a.result, truth: truth, kind: kind, retriedAfterServfail: a.retried)
        input.checkingDisabledResult = a.checkingDisabled
        return input
    }

    /// `truths[slot]` with `geo` set where some answer to a record question is stale
    /// against the truth as asked from here; the statistics of the extra queries; and the
    /// verdicts this pass drew (by answer index) for questions whose truth it left as it
    /// was: they stand, and need not be drawn again.
    func enrich(_ truths: [Truth], kinds: [CheckQuestion.Kind], answers: [Answer]) async -> ([Truth], GeoStatistics, [Int: Verdict]) {
        var out = truths
        var stats = GeoStatistics()
        var addresses: [Int: [IPAddress]] = [:]
        var drawn: [Int: Verdict] = [:]
        // Only an authority's own data can vary by location (not --expect values, not negative answers).
        let eligible = truths.indices.map { kinds[$0] == .record && GeoTruthFinder.mayVaryByLocation(truths[$0]) }
        guard eligible.contains(true) else { return (out, stats, drawn) }
        // Answers are read by index: an Answer is a large value, copied by every `for a in`.
        let chosen = answers.indices.filter { eligible[answers[$0].slot] }
        let classifier = self.classifier
        let judged = chosen.parallelMap { i in
            classifier.classify(Self.input(answers[i], truth: truths[answers[i].slot], kind: kinds[answers[i].slot]))
        }
        for (k, i) in chosen.enumerated() {
            drawn[i] = judged[k]
            if judged[k].status == .stale {
                addresses[answers[i].slot, default: []].append(VerdictPolicy.geoNetwork(of: answers[i].resolver).address)
            }
        }
        for slot in addresses.keys.sorted() {
            let (geo, s) = await finder.geo(for: truths[slot], addresses: addresses[slot]!)
            out[slot].geo = geo
            stats += s
        }
        if !addresses.isEmpty {
            for i in answers.indices where out[answers[i].slot].geo != nil { drawn[i] = nil }
        }
        return (out, stats, drawn)
    }
}
