/// One whole check: establish the truth, ask every resolver, judge every answer.
/// The engine, the truth and the verdicts are separate pieces; this only wires them.
public struct PropagationCheck: Sendable {
    public struct Plan: Sendable {
        public var names: [DomainName]
        public var types: [RecordType]
        public var resolvers: [Resolver]
        /// `--expect TYPE=VALUE`: the truth for these types, for every name.
        public var expectations: [RecordType: [String]] = [:]
        /// Ask every resolver for the zone's NS set too (the Marketo failure mode).
        public var checkDelegation = true
        public var iteration = IterativeResolver.Options()
        public var signatures: ParkingSignatures = .bundled
        /// Ask the resolvers from this machine (`--from local`, the default).
        public var askLocally = true
        /// Ask from remote probes too (`--from globalping`).
        public var remote: GlobalpingVantage?
        /// Pause before asking a SERVFAIL again. Resolvers may cache a resolution
        /// failure for at least a second (RFC 9520 §3.2), so a shorter pause can
        /// read back the same cached SERVFAIL.
        public var servfailPause: Double = 1.5

        public init(names: [DomainName], types: [RecordType], resolvers: [Resolver]) {
            self.names = names
            self.types = types
            self.resolvers = resolvers
        }
    }

    public struct TruthKey: Hashable, Sendable {
        public var name: String
        public var type: RecordType
    }

    public struct Report: Sendable {
        public var startedAt: Double
        public var finishedAt: Double
        public var names: [DomainName]
        public var truths: [Truth]
        public var verdicts: [Verdict]
        public var summary: Summary
        /// Why the remote vantage points gave nothing (rate limit, no probes…), if they did not.
        public var remoteError: String?
    }

    public let plan: Plan
    public let engine: QueryEngine

    public init(plan: Plan, engine: QueryEngine) {
        self.plan = plan
        self.engine = engine
    }

    public func run(progress: (@Sendable (String) -> Void)? = nil) async -> Report {
        let started = MonotonicClock.wallSeconds()
        progress?("establishing the truth")
        let truths = await establishTruth()

        // Every resolver × every (name, type) with a truth or an expectation, plus the delegation checks.
        struct Job { var resolver: Resolver; var truth: Truth; var isDelegation: Bool }
        var jobs: [Job] = []
        var requests: [QueryRequest] = []
        // One encoded template per question, shared by every resolver.
        let templates = truths.map { try? QueryTemplate(name: $0.name, type: $0.type, options: .recursive) }
        for resolver in plan.askLocally ? plan.resolvers : [] {
            for (t, template) in zip(truths, templates) {
                guard let template else { continue }
                jobs.append(Job(resolver: resolver, truth: t.truth, isDelegation: t.isDelegation))
                requests.append(QueryRequest(server: resolver.address, query: template))
            }
        }
        progress?("asking \(plan.resolvers.count) resolvers \(requests.count) questions")
        var results = await engine.results(for: requests)
        var retried = Set<Int>()
        let servfails = results.filter { $0.message?.rcode == .servFail }.map(\.index)
        if !servfails.isEmpty {
            // Resolvers SERVFAIL transiently (Knot Resolver on a zone it has not seen yet): ask once more.
            progress?("asking \(servfails.count) SERVFAIL answers again")
            try? await Task.sleep(nanoseconds: UInt64(plan.servfailPause * 1e9))
            let again = await engine.results(for: servfails.map { requests[$0] })
            for (i, result) in again.enumerated() {
                var r = result
                r.index = servfails[i]
                r.attempts += results[servfails[i]].attempts
                results[servfails[i]] = r
                retried.insert(servfails[i])
            }
        }
        let classifier = VerdictClassifier(signatures: plan.signatures)
        var verdicts = results.map { r in
            classifier.classify(.init(resolver: jobs[r.index].resolver, result: r, truth: jobs[r.index].truth,
                                      retriedAfterServfail: retried.contains(r.index), isDelegationCheck: jobs[r.index].isDelegation))
        }
        // Remote probes: the same truths, the same classifier.
        var remoteError: String? = nil
        var remoteResolvers = Set<ServerAddress>()
        if let remote = plan.remote {
            let asked = zip(truths, templates).compactMap { t, template in template.map { (t, $0) } }
            progress?("asking Globalping probes \(asked.count) questions")
            do {
                let observations = try await remote.observe(asked.map(\.1))
                for ((t, _), list) in zip(asked, observations) {
                    for o in list {
                        remoteResolvers.insert(o.resolver.address)
                        verdicts.append(classifier.classify(.init(resolver: o.resolver, result: o.result, truth: t.truth,
                                                                  isDelegationCheck: t.isDelegation)))
                    }
                }
            } catch {
                remoteError = "\(error)"
            }
        }
        let finished = MonotonicClock.wallSeconds()
        let resolverCount = (plan.askLocally ? plan.resolvers.count : 0) + remoteResolvers.count
        return Report(startedAt: started, finishedAt: finished, names: plan.names, truths: truths.map(\.truth),
                      verdicts: verdicts, summary: Summary(verdicts: verdicts, truths: truths.map(\.truth), resolverCount: resolverCount),
                      remoteError: remoteError)
    }

    struct PlannedTruth { var truth: Truth; var isDelegation: Bool; var name: DomainName { truth.name }; var type: RecordType { truth.type } }

    func establishTruth() async -> [PlannedTruth] {
        let iterative = IterativeResolver(engine: engine, options: plan.iteration)
        let finder = TruthFinder(resolver: iterative)
        var planned: [(DomainName, RecordType, Bool)] = []
        for name in plan.names { for type in plan.types { planned.append((name, type, false)) } }
        var out: [PlannedTruth] = []
        await withTaskGroup(of: (Int, PlannedTruth).self) { group in
            for (i, (name, type, isDelegation)) in planned.enumerated() {
                group.addTask {
                    if let expected = plan.expectations[type] {
                        let values = expected.map { AnswerChain.normalise($0, type: type) }
                        return (i, PlannedTruth(truth: Truth(name: name, type: type, answer: nil, expectedValues: values,
                                                             source: .expected, notes: [], failure: nil), isDelegation: isDelegation))
                    }
                    return (i, PlannedTruth(truth: await finder.truth(for: name, type: type), isDelegation: isDelegation))
                }
            }
            var collected: [(Int, PlannedTruth)] = []
            for await item in group { collected.append(item) }
            out = collected.sorted { $0.0 < $1.0 }.map(\.1)
        }
        guard plan.checkDelegation else { return out }
        // The zone apex of every name: ask resolvers for its NS set (unless already asked).
        var zones: [DomainName] = []
        for t in out {
            if case .authoritative(let zone, _, _) = t.truth.source, let z = DomainName(presentation: zone), !z.isRoot,
               !zones.contains(z) { zones.append(z) }
        }
        if zones.isEmpty && plan.expectations[.ns] == nil {
            // With --expect only, find the zones by iteration anyway.
            for name in plan.names {
                if let d = try? await iterative.delegation(for: name), !d.zone.isRoot, !zones.contains(d.zone) { zones.append(d.zone) }
            }
        }
        for zone in zones where !out.contains(where: { $0.name == zone && $0.type == .ns }) {
            var t: Truth
            if let expected = plan.expectations[.ns] {
                t = Truth(name: zone, type: .ns, answer: nil, expectedValues: expected.map { AnswerChain.normalise($0, type: .ns) },
                          source: .expected, notes: [], failure: nil)
            } else {
                t = await finder.truth(for: zone, type: .ns)
            }
            t.notes += await finder.delegationNotes(for: zone)
            out.append(PlannedTruth(truth: t, isDelegation: true))
        }
        return out
    }
}

/// Counts and the convergence decision.
public struct Summary: Sendable {
    public var counts: [VerdictStatus: Int]
    public var resolverCount: Int
    /// Resolvers whose every verdict is current.
    public var resolversCurrent: Int
    /// Resolvers that answered at least one question.
    public var resolversAnswering: Int
    /// The moment the last known non-current cache should expire.
    public var lastExpiry: Double?
    /// Parking providers seen, most frequent first.
    public var parkingProviders: [(String, Int)]
    public var truthEstablished: Bool

    init(verdicts: [Verdict], truths: [Truth], resolverCount: Int) {
        var counts: [VerdictStatus: Int] = [:]
        for v in verdicts { counts[v.status, default: 0] += 1 }
        self.counts = counts
        self.resolverCount = resolverCount
        var byResolver: [ServerAddress: [Verdict]] = [:]
        for v in verdicts { byResolver[v.resolver.address, default: []].append(v) }
        resolversCurrent = byResolver.values.filter { $0.allSatisfy { $0.status == .current } }.count
        resolversAnswering = byResolver.values.filter { $0.contains { $0.status.isAnswering } }.count
        lastExpiry = verdicts.filter { $0.status.isNotConverged }.compactMap(\.expiresAt).max()
        var providers: [String: Int] = [:]
        for v in verdicts { if let p = v.parking { providers[p.provider, default: 0] += 1 } }
        parkingProviders = providers.sorted { $0.value > $1.value }
        truthEstablished = !truths.isEmpty && truths.allSatisfy { $0.answer != nil || $0.expectedValues != nil }
    }

    public func count(_ s: VerdictStatus) -> Int { counts[s] ?? 0 }

    /// Verdicts of resolvers that answered, current ones among them.
    public var answeringVerdicts: Int { VerdictStatus.allCases.filter(\.isAnswering).reduce(0) { $0 + count($1) } }
    public var currentPercent: Double {
        answeringVerdicts == 0 ? 0 : Double(count(.current)) * 100 / Double(answeringVerdicts)
    }

    /// 0 converged, 1 not converged, 2 cannot tell. `minCurrent` is a percentage of answering verdicts.
    public func exitStatus(minCurrent: Double?) -> Int32 {
        if !truthEstablished || answeringVerdicts == 0 { return 2 }
        if let minCurrent { return currentPercent >= minCurrent ? 0 : 1 }
        let bad = VerdictStatus.allCases.filter(\.isNotConverged).reduce(0) { $0 + count($1) }
        return bad == 0 ? 0 : 1
    }
}
