/// One question of a check: what the truth is and what every resolver said.
public struct QuestionReport: Sendable {
    public var question: CheckQuestion
    public var truth: Truth
    public var verdicts: [Verdict]

    public init(question: CheckQuestion, truth: Truth, verdicts: [Verdict]) {
        self.question = question
        self.truth = truth
        self.verdicts = verdicts
    }
}

/// The result of one check, or of one round of a watch: every question with its
/// truth and verdicts, and the summary `VerdictPolicy` draws from them. The same
/// shape feeds the table, JSON, NDJSON and CSV writers, the watch screen and log.
public struct PropagationReport: Sendable {
    public var startedAt: Double
    public var finishedAt: Double
    public var names: [DomainName]
    public var questions: [QuestionReport]
    /// Resolvers asked: the local list's plus remote probes' resolvers.
    public var resolverCount: Int
    /// Why the remote vantage points gave nothing (rate limit, no probes…), if they did not.
    public var remoteError: String?
    /// What a reader should know about how the answers were obtained (remote probes' limits,
    /// questions asked locally only, rounds without probes).
    public var notes: [String]
    /// Queries the walk from the root sent for this report (root, TLD, other authoritative servers).
    public var iteration: IterationStatistics
    /// Extra queries for CDN and GeoDNS names (`GeoTruthFinder`).
    public var geo: GeoStatistics
    public private(set) var summary: Summary
    /// Which stage the domain is at (registry, TLD, zone, caches): one line on top of every view.
    public var diagnosis: Diagnosis?

    public init(startedAt: Double, finishedAt: Double, names: [DomainName], questions: [QuestionReport],
                resolverCount: Int, remoteError: String? = nil, notes: [String] = [], iteration: IterationStatistics = IterationStatistics(),
                geo: GeoStatistics = GeoStatistics()) {
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.names = names
        self.questions = questions
        self.resolverCount = resolverCount
        self.remoteError = remoteError
        self.notes = notes
        self.iteration = iteration
        self.geo = geo
        summary = Summary(verdictLists: questions.map(\.verdicts), truths: questions.map(\.truth), resolverCount: resolverCount)
    }

    public var truths: [Truth] { questions.map(\.truth) }
    /// Every verdict, question by question.
    public var verdicts: [Verdict] { questions.flatMap(\.verdicts) }

    public func outcome(minCurrent: Double?) -> VerdictPolicy.Outcome { summary.outcome(minCurrent: minCurrent) }

    /// The same report with every verdict passed through `transform` (the summary is drawn again).
    public func mapVerdicts(_ transform: (Verdict) -> Verdict) -> PropagationReport {
        var questions = self.questions
        for i in questions.indices { questions[i].verdicts = questions[i].verdicts.map(transform) }
        var out = PropagationReport(startedAt: startedAt, finishedAt: finishedAt, names: names, questions: questions,
                                    resolverCount: resolverCount, remoteError: remoteError, notes: notes, iteration: iteration, geo: geo)
        out.diagnosis = diagnosis
        return out
    }
}
