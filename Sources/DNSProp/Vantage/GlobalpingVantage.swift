import Foundation

/// Asks Globalping's probes the check's questions and turns every probe's
/// answer into the same kind of result a local query gives, so that truth,
/// verdicts, expiry and output are exactly those of a local check.
///
/// One probe set serves every question of every round: the first measurement picks
/// the probes from `locations`, every later one reuses its id, and the API then returns
/// the same probes in the same order (spec: MeasurementLocations). A probe is known by
/// its position in that set — labels are not unique (`"private"` resolvers, one city,
/// one network) and are absent on failures. A reused id expires after 7 days (422):
/// then new probes are picked, and they get new identities.
public final class GlobalpingVantage: @unchecked Sendable {   // mutable state guarded by `lock`
    public let client: GlobalpingClient
    public let locations: [Globalping.Location]
    public let probes: Int
    /// Ask this resolver from every probe (`8.8.8.8`, `8.8.8.8:5353`, `dns.google`); nil: each probe's own.
    public let resolver: String?
    private let lock = NSLock()
    private struct ProbeSet { var id: String; var count: Int; var generation: Int }
    private var probeSet: ProbeSet?
    private var generation = 0
    private var limitsChecked = false
    private var lastRoundAt: Date?
    private var _lastNotes: [String] = []

    public init(client: GlobalpingClient, locations: [Globalping.Location], probes: Int, resolver: String?) {
        self.client = client
        self.locations = locations
        self.probes = probes
        self.resolver = resolver
    }

    public struct Observation: Sendable {
        public var resolver: Resolver
        public var result: QueryResult
    }

    /// What one round gave: observations per question (empty for a question asked only
    /// locally or whose measurement failed), notes for the user (already escaped), and the
    /// error that stopped the round when no question got any answer.
    public struct Round: Sendable {
        public var observations: [[Observation]]
        public var notes: [String]
        public var error: GlobalpingClient.ClientError?
    }

    /// The notes of the last round (types not asked remotely, TXT whitespace, failed questions).
    public var lastNotes: [String] { lock.withLock { _lastNotes } }

    /// The probe set's measurement id, once there is one.
    public var probeSetID: String? { lock.withLock { probeSet?.id } }

    static let txtNote = "TXT values seen by Globalping's probes have runs of spaces collapsed to one (the probe splits dig's output on whitespace), so a TXT record whose text has such runs looks stale from probes"
    static let negativeNote = "Globalping's probes return only the answer section: negative-cache times and SOA-based parking detection are not available for probe rows"

    /// Compatibility with the CLI: `GlobalpingRequestBuilder.parseLocations` (the probe count is the request's one limit).
    public static func parseLocations(_ spec: String, probes: Int) throws -> [Globalping.Location] {
        do { return try GlobalpingRequestBuilder.parseLocations(spec) } catch { throw GlobalpingClient.ClientError.request(error) }
    }

    /// TXT text as a probe reports it: whitespace runs collapsed (for comparing truth with probe rows).
    public static func probeTXTForm(_ rdata: String) -> String {
        rdata.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    /// Runs one round; throws only when no question got any answer (see `observeRound`).
    public func observe(_ questions: [QueryTemplate]) async throws -> [[Observation]] {
        let round = await observeRound(questions)
        if let e = round.error { throw e }
        return round.observations
    }

    public func observeRound(_ questions: [QueryTemplate]) async -> Round {
        var notes: [String] = []
        var out = Array(repeating: [Observation](), count: questions.count)
        func finish(_ error: GlobalpingClient.ClientError?) -> Round {
            lock.withLock { _lastNotes = notes }
            return Round(observations: out, notes: notes, error: error)
        }
        var options = Globalping.MeasurementRequest.Options(query: .init(type: "A"), resolver: nil)
        if let resolver {
            do {
                let r = try GlobalpingRequestBuilder.resolver(resolver)
                options.resolver = r.resolver
                options.port = r.port
            } catch { return finish(.request(error)) }
        }
        // Which questions the probes can ask.
        var asked: [(index: Int, target: String, type: RecordType)] = []
        for (i, t) in questions.enumerated() {
            switch GlobalpingRequestBuilder.target(for: t.question) {
            case .success(let target): asked.append((i, target, t.question.type))
            case .failure(let skip): if !notes.contains(skip.description) { notes.append(skip.description) }
            }
        }
        if asked.contains(where: { $0.type == .txt }) { notes.append(Self.txtNote) }
        guard !asked.isEmpty else { return finish(nil) }

        lock.withLock { lastRoundAt = client.now() }
        if client.token != nil && !lock.withLock({ limitsChecked }) {
            // Free; tells whether the token has an account (a token without one has anonymous limits).
            _ = try? await client.fetchLimits()
            lock.withLock { limitsChecked = true }
        }
        let limit = GlobalpingRequestBuilder.limit(probes: probes, cap: client.maxProbesPerMeasurement)
        let baseOptions = options, locations = self.locations
        let body: @Sendable ((index: Int, target: String, type: RecordType), String?) -> Globalping.MeasurementRequest = { q, reuse in
            var o = baseOptions
            o.query.type = q.type.name
            return .init(target: q.target, locations: reuse.map { .measurement($0) } ?? .locations(locations),
                         limit: reuse == nil ? limit : nil, measurementOptions: o)
        }

        // The first question creates (or reuses) the probe set; the others reuse it, all at once.
        var created: [Int: Globalping.Created] = [:]
        var failures: [Int: GlobalpingClient.ClientError] = [:]
        let first = asked[0]
        var set = lock.withLock { self.probeSet }
        do throws(GlobalpingClient.ClientError) {
            if let s = set {
                do throws(GlobalpingClient.ClientError) {
                    created[0] = try await client.createMeasurement(body(first, s.id))
                } catch .noProbesFound {
                    notes.append("the probes of Globalping measurement \(s.id) are no longer available; new probes were picked")
                    lock.withLock { probeSet = nil }
                    set = nil
                }
            }
            if set == nil {
                let c = try await client.createMeasurement(body(first, nil))
                created[0] = c
                set = lock.withLock { () -> ProbeSet in
                    generation += 1
                    probeSet = ProbeSet(id: c.id, count: c.probesCount, generation: generation)
                    return probeSet!
                }
            }
        } catch {
            return finish(error)
        }
        let current = set!
        await withTaskGroup(of: (Int, Result<Globalping.Created, GlobalpingClient.ClientError>).self) { group in
            for (n, q) in asked.enumerated().dropFirst() {
                group.addTask {
                    do throws(GlobalpingClient.ClientError) { return (n, .success(try await self.client.createMeasurement(body(q, current.id)))) } catch { return (n, .failure(error)) }
                }
            }
            for await (n, r) in group {
                switch r {
                case .success(let c): created[n] = c
                case .failure(let e): failures[n] = e
                }
            }
        }
        // Wait for every measurement at once.
        await withTaskGroup(of: (Int, Result<Globalping.Measurement, GlobalpingClient.ClientError>).self) { group in
            for (n, c) in created {
                group.addTask {
                    do throws(GlobalpingClient.ClientError) { return (n, .success(try await self.client.waitForMeasurement(id: c.id, probes: c.probesCount))) } catch { return (n, .failure(error)) }
                }
            }
            for await (n, r) in group {
                switch r {
                case .success(let m):
                    let template = questions[asked[n].index]
                    out[asked[n].index] = m.results.enumerated().map { convert($0.element, position: $0.offset, generation: current.generation, template: template) }
                case .failure(let e): failures[n] = e
                }
            }
        }
        let answeredAny = out.contains { !$0.isEmpty }
        for (n, e) in failures.sorted(by: { $0.key < $1.key }) where answeredAny {
            notes.append("Globalping: the \(asked[n].type.name) question for \(TerminalText.escape(asked[n].target)) got no answers: \(e)")
        }
        if out.joined().contains(where: { o in
            guard case .success(let m) = o.result.outcome else { return false }
            return m.rcode == .nxDomain || m.answers.isEmpty
        }) { notes.append(Self.negativeNote) }
        return finish(answeredAny ? nil : failures.sorted(by: { $0.key < $1.key }).first?.value)
    }

    // MARK: budget

    /// Whether the watch loop should run a remote round now.
    public enum RoundDecision: Sendable, Equatable {
        case ask(estimatedCost: Int)
        /// Skip remote questions until `until` (keep asking locally); `reason` is for the screen.
        case wait(until: Date, reason: String)
    }

    /// How many of these questions the probes would be asked (the rest are asked locally only).
    public static func remoteQuestionCount(_ questions: [QueryTemplate]) -> Int {
        questions.filter { if case .success = GlobalpingRequestBuilder.target(for: $0.question) { return true } else { return false } }.count
    }

    /// Paces remote rounds so that a watch stays within the hourly budget: a round costs
    /// `questions` × probes; rounds are spaced so that at most ⌊limit ÷ cost⌋ fall in an hour,
    /// and none is started while the API's last word (`X-RateLimit-Remaining`/`-Reset`, or
    /// GET /v1/limits) says the budget cannot pay for it.
    public func roundDecision(questions: Int, now: Date = Date()) -> RoundDecision {
        guard questions > 0 else { return .ask(estimatedCost: 0) }
        let perQuestion = lock.withLock { probeSet?.count } ?? GlobalpingRequestBuilder.limit(probes: probes, cap: client.maxProbesPerMeasurement)
        let cost = questions * max(1, perQuestion)
        let b = client.budget
        let limit = b.rateLimitLimit ?? (client.maxProbesPerMeasurement == GlobalpingRequestBuilder.anonymousProbeCap ? 250 : 500)
        if let remaining = b.rateLimitRemaining, remaining < cost, b.creditsRemaining ?? 0 < cost, let reset = b.resetAt, reset > now {
            return .wait(until: reset, reason: "Globalping budget: \(remaining) of \(limit) tests left this hour, a round needs \(cost); probes asked again in \(GlobalpingClient.RateLimit.seconds(Int(reset.timeIntervalSince(now).rounded(.up))))")
        }
        let roundsPerHour = max(1, limit / cost)
        let spacing = 3600.0 / Double(roundsPerHour)
        if let last = lock.withLock({ lastRoundAt }), last.addingTimeInterval(spacing) > now {
            let next = last.addingTimeInterval(spacing)
            return .wait(until: next, reason: "Globalping budget: \(roundsPerHour) round\(roundsPerHour == 1 ? "" : "s") of \(cost) tests an hour fit in \(limit); probes asked again in \(GlobalpingClient.RateLimit.seconds(Int(next.timeIntervalSince(now).rounded(.up))))")
        }
        return .ask(estimatedCost: cost)
    }

    // MARK: conversion

    /// Probes have no address of ours; give each a private identity from 100::/64 (the
    /// discard-only prefix, never sent to): the probe set's generation and the position.
    static func identity(generation: Int, position: Int) -> ServerAddress {
        ServerAddress(ip: .v6(0x0100_0000_0000_0000, UInt64(truncatingIfNeeded: generation) << 32 | UInt64(position + 1)), port: 53)
    }

    static func label(_ s: String?) -> String? { s.map { String($0.prefix(128)) } }

    func convert(_ r: Globalping.ProbeResult, position: Int, generation: Int, template: QueryTemplate) -> Observation {
        let p = r.probe
        var vantage = Vantage(network: "globalping", continent: Self.label(p.continent), country: Self.label(p.country), city: Self.label(p.city),
                              asn: p.asn, provider: Self.label(p.network), tags: (p.tags ?? []).map { String($0.prefix(128)) },
                              resolver: Self.label(r.result.resolver ?? p.resolvers?.first))
        vantage.latitude = p.latitude
        vantage.longitude = p.longitude
        var resolver = Resolver(address: Self.identity(generation: generation, position: position),
                                operatorName: vantage.provider, countryCode: vantage.country,
                                location: vantage.city, origin: "globalping")
        resolver.vantage = vantage
        let now = WallClock.now()
        let outcome: Result<Message, TransportError>
        switch r.result.status {
        case "finished":
            if let rcode = r.result.responseCode {
                let answers = r.result.answers.compactMap { a -> ResourceRecord? in
                    guard let name = a.name, let typeName = a.type, let value = a.value, let type = RecordType(name: typeName) else { return nil }
                    return ResourceRecord(owner: name, type: type, ttl: a.validTTL, rdataFields: [value])
                }
                outcome = .success(Message(header: Header(id: 0, opcode: 0, rcode: rcode, flags: [.qr, .rd, .ra]),
                                           questions: [template.question], answers: answers, authority: [], additional: [], edns: nil))
            } else {
                outcome = .failure(.remoteProbeFailed(source: "response", detail: "the probe's result has no usable response code"))
            }
        case "offline":
            outcome = .failure(.unreachable("the Globalping probe went offline"))
        case "failed":
            switch r.result.failureSource {
            case "internal": outcome = .failure(.remoteProbeFailed(source: "internal", detail: "Globalping gave up on this probe"))
            case "resolver": outcome = .failure(.remoteProbeFailed(source: "resolver", detail: "the probe's resolver gave no answer (Globalping failureSource resolver)"))
            case "target": outcome = .failure(.remoteProbeFailed(source: "target", detail: "Globalping withheld the answer (private addresses in it)"))
            default: outcome = .failure(.remoteProbeFailed(source: "unknown", detail: "the probe's query failed (Globalping gave no reason)"))
            }
        default:
            outcome = .failure(.remoteProbeFailed(source: "internal", detail: "Globalping returned no result for this probe"))
        }
        let rtt = r.result.timings?.total.flatMap { $0.isFinite && $0 >= 0 && $0 <= 600_000 ? $0 / 1000 : nil }
        let result = QueryResult(index: 0, request: QueryRequest(server: resolver.address, query: template), outcome: outcome,
                                 attempts: 1, transport: .udp, rtt: rtt, completedAt: now, dropped: 0)
        return Observation(resolver: resolver, result: result)
    }
}
