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
        /// Delegations, name-server addresses and round trips learnt by the walk from the root,
        /// kept with their TTLs. A class: every copy of the plan (each watch round) shares it,
        /// so a later round asks the root and TLD servers nothing while the TTLs last.
        public var delegationCache = DelegationCache()
        public var signatures: ParkingSignatures = .bundled
        /// Ask the resolvers from this machine (`--from local`, the default).
        public var askLocally = true
        /// Ask from remote probes too (`--from globalping`).
        public var remote: GlobalpingVantage?
        /// Pause before asking a SERVFAIL again. Resolvers may cache a resolution
        /// failure for at least a second (RFC 9520 §3.2), so a shorter pause can
        /// read back the same cached SERVFAIL.
        public var servfailPause: Double = 1.5
        /// Questions not to ask some resolvers this time, with the verdict to report instead
        /// (`watch` holds back queries that could make a resolver refresh a stale record).
        public var deferred: [ResolverQuestion: Verdict] = [:]
        /// Why the remote probes are not asked this time (`watch` pacing Globalping's hourly budget).
        public var remoteSkipped: String?
        /// Ask every resolver to name the site that answers (EDNS NSID, RFC 5001): `Verdict.site`.
        public var requestNSID = true
        /// Cache purge pages by service, for advice on stale and parked answers.
        public var purgePages: [String: PurgePage] = PurgePage.bundled
        /// Validate each truth's chain of trust from this anchor (`--trust-anchor`); nil: do not.
        public var trustAnchor: TrustAnchor? = .ianaRoot
        /// Notes about the plan itself (what was left out and why), carried into every report.
        public var notes: [String] = []
        /// Registry status over RDAP for the diagnosis line (nil: `--no-rdap`).
        public var registry: RegistrySource?
        /// Draw the one-line diagnosis (registry, TLD, zone, caches).
        public var diagnose = false
        /// `--warn-expiry`: warn when the registration expires within this many seconds.
        public var warnExpiry: Double?

        public init(names: [DomainName], types: [RecordType], resolvers: [Resolver]) {
            self.names = names
            self.types = types
            self.resolvers = resolvers
        }
    }

    public let plan: Plan
    public let engine: QueryEngine

    public init(plan: Plan, engine: QueryEngine) {
        self.plan = plan
        self.engine = engine
    }

    public func run(progress: (@Sendable (String) -> Void)? = nil) async -> PropagationReport {
        let started = WallClock.now()
        let registryLookup = startRegistryLookup()   // beside the DNS work, never in its way
        // The parking signatures, decoded beside the queries: the diagnosis matches the TLD's
        // delegation against them after the verdicts, and a differing answer would too.
        let signatures = plan.signatures
        Task.detached(priority: .utility) { _ = signatures.providers.isEmpty }
        progress?("establishing the truth")
        let iterative = IterativeResolver(engine: engine, options: plan.iteration, cache: plan.delegationCache)
        var truths = await establishTruth(iterative)
        if let anchor = plan.trustAnchor {
            // One truth after another: the later ones find the zones' keys in the cache.
            progress?("validating the chain of trust")
            let chain = ChainOfTrust(resolver: iterative, anchor: anchor)
            for i in truths.indices { truths[i].truth.dnssec = await chain.validate(truths[i].truth) }
        }
        // The TLD's and the zone's view of the delegation, for the diagnosis: walked while the
        // resolvers are asked (after the truth, so that it finds the truth's delegations cached).
        let delegationView = startDelegationView(iterative)
        let questions = truths.map { CheckQuestion(name: $0.truth.name, type: $0.truth.type, kind: $0.kind) }
        let classifier = VerdictClassifier(signatures: plan.signatures)
        var verdicts: [[Verdict]] = Array(repeating: [], count: truths.count)
        // Every answer, judged once every one is in (the geo truth needs them all).
        var answers: [GeoTruthPass.Answer] = []

        // Every resolver × every question, plus a SERVFAIL asked again once.
        var options: QueryOptions = plan.requestNSID ? .recursiveWithNSID : .recursive
        options.authenticatedData = true
        let templates = truths.map { try? QueryTemplate(name: $0.truth.name, type: $0.truth.type, options: options) }
        let asked = truths.indices.filter { templates[$0] != nil }
        if plan.askLocally {
            let deferred = plan.deferred
            let askedQuestions = asked.map { questions[$0] }
            let fanOut = ResolverFanOut(resolvers: plan.resolvers, templates: asked.map { templates[$0]! }) { r, q in
                deferred[ResolverQuestion(resolver: plan.resolvers[r].address, question: askedQuestions[q])] == nil
            }
            for (key, verdict) in deferred {
                guard let slot = askedQuestions.firstIndex(of: key.question) else { continue }
                verdicts[asked[slot]].append(verdict)
            }
            progress?("asking \(plan.resolvers.count) resolvers \(fanOut.requests.count) questions")
            var results = await engine.results(for: fanOut.requests)
            var retried = Set<Int>()
            let servfails = results.filter { $0.message?.rcode == .servFail }.map(\.index)
            if !servfails.isEmpty {
                // Resolvers SERVFAIL transiently (Knot Resolver on a zone it has not seen yet): ask once more.
                progress?("asking \(servfails.count) SERVFAIL answers again")
                try? await Task.sleep(nanoseconds: UInt64(plan.servfailPause * 1e9))
                let again = await engine.results(for: servfails.map { fanOut.requests[$0] })
                for (i, result) in again.enumerated() {
                    var r = result
                    r.index = servfails[i]
                    r.attempts += results[servfails[i]].attempts
                    results[servfails[i]] = r
                    retried.insert(servfails[i])
                }
            }
            let checkingDisabled = await askWithCheckingDisabled(&results, fanOut: fanOut, progress: progress)
            answers.reserveCapacity(results.count)
            for r in results {
                let (resolver, slot) = fanOut.owner(of: r.index)
                answers.append(.init(slot: asked[slot], resolver: resolver, result: r, retried: retried.contains(r.index),
                                     checkingDisabled: checkingDisabled[r.index]))
            }
        }
        // Remote probes: the same truths, the same classifier.
        var remoteError: String? = nil
        var remoteResolvers = Set<ServerAddress>()
        var notes: [String] = plan.notes
        if let remote = plan.remote {
            progress?("asking Globalping probes \(asked.count) questions")
            let round = await remote.observeRound(asked.map { templates[$0]! })
            for (slot, list) in round.observations.enumerated() where slot < asked.count {
                for o in list {
                    remoteResolvers.insert(o.resolver.address)
                    answers.append(.init(slot: asked[slot], resolver: o.resolver, result: o.result, retried: false))
                }
            }
            notes += round.notes
            if let e = round.error { remoteError = "\(e)" }
        }
        if let skipped = plan.remoteSkipped { notes.append(skipped) }
        // CDN and GeoDNS names: what the authority gives to the networks of resolvers that differ.
        let (judgedTruths, geoStatistics, drawn) = await GeoTruthPass(finder: GeoTruthFinder(resolver: iterative), classifier: classifier)
            .enrich(truths.map(\.truth), kinds: truths.map(\.kind), answers: answers)
        // Thousands of answers: judged on every core (the classifier is a pure function).
        let judged = [Int](answers.indices).parallelMap { [answers, truths] i in
            drawn[i] ?? classifier.classify(GeoTruthPass.input(answers[i], truth: judgedTruths[answers[i].slot],
                                                               kind: truths[answers[i].slot].kind))
        }
        for i in answers.indices { verdicts[answers[i].slot].append(judged[i]) }
        var reports = questions.indices.map { QuestionReport(question: questions[$0], truth: judgedTruths[$0], verdicts: verdicts[$0]) }
        // Upper bounds on when each non-current answer is gone (stale delegations re-fetch).
        reports = await StaleDelegationProbe(iterative: iterative).bound(reports)
        reports = PurgeAdvice.annotate(reports, pages: plan.purgePages)
        let resolverCount = (plan.askLocally ? plan.resolvers.count : 0) + remoteResolvers.count
        let report = PropagationReport(startedAt: started, finishedAt: WallClock.now(), names: plan.names,
                                       questions: reports, resolverCount: resolverCount, remoteError: remoteError, notes: notes,
                                       iteration: iterative.statistics, geo: geoStatistics)
        return await diagnose(report, delegationView: delegationView, iterative: iterative, lookup: registryLookup)
    }

    struct PlannedTruth { var truth: Truth; var kind: CheckQuestion.Kind }

    /// Every request still answered SERVFAIL, asked once more with CD=1 (RFC 4035 §3.2.2):
    /// a resolver that answers then failed DNSSEC validation, not resolution. By request index.
    /// Where CD=1 is answered, the question is asked once more as before (CD=0): Knot Resolver
    /// answers SERVFAIL, without any Extended DNS Error, two or three times in a row for a zone
    /// whose keys it has not (or no longer) cached, and then answers; such an answer replaces
    /// the SERVFAIL in `results` and is no DNSSEC failure.
    func askWithCheckingDisabled(_ results: inout [QueryResult], fanOut: ResolverFanOut,
                                 progress: (@Sendable (String) -> Void)?) async -> [Int: QueryResult] {
        let servfails = results.filter { $0.message?.rcode == .servFail }.map(\.index)
        guard !servfails.isEmpty else { return [:] }
        progress?("asking \(servfails.count) SERVFAIL answers again with checking disabled")
        var requests: [QueryRequest] = []
        var indices: [Int] = []
        for i in servfails {
            let request = fanOut.requests[i]
            var options = request.query.options
            options.checkingDisabled = true
            guard let name = DomainName(presentation: request.query.question.name),
                  let template = try? QueryTemplate(name: name, type: request.query.question.type, options: options) else { continue }
            requests.append(QueryRequest(server: request.server, query: template))
            indices.append(i)
        }
        let answers = await engine.results(for: requests)
        var out: [Int: QueryResult] = [:]
        for (k, r) in answers.enumerated() { out[indices[k]] = r }
        let confirm = out.filter { $0.value.message.map { $0.rcode == .noError || $0.rcode == .nxDomain } == true }.keys.sorted()
        guard !confirm.isEmpty else { return out }
        let again = await engine.results(for: confirm.map { fanOut.requests[$0] })
        for (k, r) in again.enumerated() where r.message != nil && r.message?.rcode != .servFail {
            var answer = r
            answer.index = confirm[k]
            answer.attempts += results[confirm[k]].attempts
            results[confirm[k]] = answer
            out[confirm[k]] = nil
        }
        return out
    }

    func establishTruth(_ iterative: IterativeResolver) async -> [PlannedTruth] {
        let finder = TruthFinder(resolver: iterative)
        var planned: [(DomainName, RecordType)] = []
        for name in plan.names { for type in plan.types { planned.append((name, type)) } }
        var out: [PlannedTruth] = []
        await withTaskGroup(of: (Int, PlannedTruth).self) { group in
            for (i, (name, type)) in planned.enumerated() {
                group.addTask {
                    if let expected = plan.expectations[type] {
                        return (i, PlannedTruth(truth: Truth.expected(name: name, type: type, values: expected), kind: .record))
                    }
                    return (i, PlannedTruth(truth: await finder.truth(for: name, type: type), kind: .record))
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
        for zone in zones where !out.contains(where: { $0.truth.name == zone && $0.truth.type == .ns }) {
            var t: Truth
            if let expected = plan.expectations[.ns] {
                t = Truth.expected(name: zone, type: .ns, values: expected)
            } else {
                t = await finder.truth(for: zone, type: .ns)
            }
            if let mismatch = await finder.delegationMismatch(for: zone) {
                t.notes.append(mismatch.note)
                // Against the zone's own set only; a stated --expect NS is the user's truth alone.
                if t.expectedValues == nil { t.parentNS = mismatch.parentNS }
            }
            out.append(PlannedTruth(truth: t, kind: .delegation))
        }
        return out
    }
}

extension Truth {
    /// The truth a user states with `--expect TYPE=VALUE`, normalised for comparison.
    public static func expected(name: DomainName, type: RecordType, values: [String]) -> Truth {
        Truth(name: name, type: type, answer: nil, expectedValues: values.map { AnswerChain.normalise($0, type: type) },
              source: .expected, notes: [], failure: nil)
    }
}

/// A resolver and a question: what `watch` may decide not to ask in a round.
public struct ResolverQuestion: Hashable, Sendable {
    public var resolver: ServerAddress
    public var question: CheckQuestion
    public init(resolver: ServerAddress, question: CheckQuestion) {
        self.resolver = resolver
        self.question = question
    }
}

/// Every resolver asked every question: one request per (resolver, question),
/// resolver by resolver, and the way back from a request's index to both.
/// Each question's encoded template is shared by every resolver (only the ID
/// differs per send).
public struct ResolverFanOut: Sendable {
    public let resolvers: [Resolver]
    public let templates: [QueryTemplate]
    public let requests: [QueryRequest]
    /// For a fan-out with pairs left out: (resolver, question) of each request.
    private let pairs: [(Int32, Int32)]?

    /// `include(resolverIndex, templateIndex)`: whether to ask that pair (all by default).
    public init(resolvers: [Resolver], templates: [QueryTemplate], include: ((Int, Int) -> Bool)? = nil) {
        self.resolvers = resolvers
        self.templates = templates
        var requests: [QueryRequest] = []
        requests.reserveCapacity(resolvers.count * templates.count)
        var pairs: [(Int32, Int32)] = []
        var skipped = false
        for (r, resolver) in resolvers.enumerated() {
            for (t, template) in templates.enumerated() {
                if let include, !include(r, t) { skipped = true; continue }
                requests.append(QueryRequest(server: resolver.address, query: template))
                if include != nil { pairs.append((Int32(r), Int32(t))) }
            }
        }
        self.requests = requests
        self.pairs = skipped ? pairs : nil
    }

    /// The resolver a request went to, and the index of its question in `templates`.
    public func owner(of requestIndex: Int) -> (resolver: Resolver, question: Int) {
        if let pairs {
            let (r, t) = pairs[requestIndex]
            return (resolvers[Int(r)], Int(t))
        }
        return (resolvers[requestIndex / templates.count], requestIndex % templates.count)
    }
}
