import Synchronization
import Foundation
import ArgumentParser
import DNSProp

/// Options shared by `check` and `watch`.
struct CheckOptions: ParsableArguments {
    @Argument(help: "Domain names to check (the apex, www, an app subdomain…). Internationalised names are converted to A-labels.")
    var names: [String] = []

    @Option(name: .customLong("type"), parsing: .singleValue,
            help: ArgumentHelp("Record types, comma-separated or repeated. Default: A,AAAA,MX (with --expect: the expected types).", valueName: "T,…"))
    var types: [String] = []

    @Flag(name: .customLong("no-delegation"), help: "Do not ask every resolver for the zone's NS set.")
    var noDelegation = false

    @Flag(name: .customLong("no-nsid"), help: "Do not ask resolvers to name the site that answers (EDNS NSID).")
    var noNSID = false

    @OptionGroup var source: ResolverSourceOptions

    @Option(name: .customLong("root-hints"), help: ArgumentHelp("Start iteration from these root servers (root hints format) instead of IANA's.", valueName: "FILE"))
    var rootHints: String?

    @Option(name: .customLong("trust-anchor"), help: ArgumentHelp("Validate the truth's DNSSEC chain from these root DS or DNSKEY records (zone-file lines) instead of IANA's root KSKs; 'none' turns validation off. With --root-hints and no --trust-anchor the chain is not validated (IANA's keys do not sign another root).", valueName: "FILE|none"))
    var trustAnchor: String?

    @Option(name: .customLong("expect"), help: ArgumentHelp("State the truth instead of asking the authoritative servers (repeatable): A=203.0.113.10, NS=ns1.example.com.", valueName: "TYPE=VALUE"))
    var expectations: [String] = []

    @Option(name: .customLong("parking"), help: ArgumentHelp("Add parking signatures from FILE: lines of 'TYPE VALUE [| PROVIDER]' (NS, CNAME, A, AAAA, SOA-RNAME).", valueName: "FILE"))
    var parkingFile: String?

    @OptionGroup var engine: EngineOptions

    @Flag(name: .customLong("no-color"), help: "No colour on a terminal either (as NO_COLOR does); watch's map then marks statuses by letter.")
    var noColor = false

    @OptionGroup var registry: RegistryOptions

    @Option(name: .customLong("min-current"), help: ArgumentHelp("Exit 0 when at least this percentage of answering resolvers' results is current.", valueName: "PERCENT"))
    var minCurrent: Double?

    @Option(name: .customLong("authoritative-port"), help: .hidden)
    var authoritativePort: UInt16 = 53

    @Option(name: .customLong("from"), help: ArgumentHelp("Where to ask from: local, globalping, or local,globalping (Globalping's probes worldwide).", valueName: "SOURCES"))
    var from: String = "local"

    @Option(name: .customLong("locations"), help: ArgumentHelp("Globalping probe locations: countries (DE,US), continents (Europe), networks (AS3320), eyeball, datacenter, or places (Sydney).", valueName: "SPEC"))
    var locations: String = "world"

    @Option(name: .customLong("probes"), help: ArgumentHelp("Globalping probes per question (at most 50 without a token, 500 with one).", valueName: "N"))
    var probes: Int = 10

    @Option(name: .customLong("globalping-token"), help: ArgumentHelp("Globalping API token (default: $GLOBALPING_TOKEN); raises the limits.", valueName: "TOKEN"))
    var globalpingToken: String?

    @Option(name: .customLong("globalping-url"), help: ArgumentHelp("Globalping API base URL (for self-hosted deployments and tests).", valueName: "URL"))
    var globalpingURL: String = GlobalpingClient.defaultBaseURL.absoluteString

    @Flag(name: .customLong("verbose"), help: "Report on stderr the queries the walk from the root sent (root, TLD, authoritative), the remaining Globalping budget and other details.")
    var verbose = false

    var sources: Set<String> { Set(from.lowercased().split(separator: ",").map { String($0).trimmingSpaces }) }

    /// Cross-option checks that need no parsing; names, types and expectations are
    /// parsed once, by `plan()`, with the library's messages.
    func validate() throws {
        guard !names.isEmpty else { throw ValidationError("give at least one domain name to check") }
        if let minCurrent, !(0...100).contains(minCurrent) { throw ValidationError("--min-current must be a percentage from 0 to 100") }
        guard !sources.isEmpty, sources.isSubset(of: ["local", "globalping"]) else {
            throw ValidationError("--from takes local, globalping, or local,globalping")
        }
        if sources.contains("globalping") {
            guard (1...500).contains(probes) else { throw ValidationError("--probes must be from 1 to 500") }
            guard URLText.valid(globalpingURL) != nil else { throw ValidationError("--globalping-url '\(TerminalText.escape(globalpingURL))' is not an http(s) URL") }
            do { _ = try GlobalpingVantage.parseLocations(locations, probes: probes) } catch { throw ValidationError("--locations: \(error)") }
            if !sources.contains("local") && source.resolverAddresses.count > 1 {
                throw ValidationError("with --from globalping, --resolver names the one resolver every probe asks")
            }
        }
    }

    /// Everything a check needs, from the command line. Bad files are usage errors (64).
    func plan() throws -> PropagationCheck.Plan {
        let names: [DomainName], expectations: [RecordType: [String]]
        var types: [RecordType]
        do {
            names = try CheckInput.names(self.names)
            expectations = try CheckInput.expectations(self.expectations)
            types = try CheckInput.types(self.types)
        } catch {
            throw ValidationError(error.message)
        }
        if types.isEmpty { types = CheckInput.defaultTypes(expectations: expectations, checkDelegation: !noDelegation) }
        let local = sources.contains("local")
        var plan = PropagationCheck.Plan(names: names, types: types, resolvers: local ? try source.load() : [])
        plan.askLocally = local
        if sources.contains("globalping") {
            let token = globalpingToken ?? ProcessEnvironment.value("GLOBALPING_TOKEN")
            let client = GlobalpingClient(baseURL: URLText.valid(globalpingURL)!, token: token)
            if probes > client.maxProbesPerMeasurement {
                Console.diagnostic("--probes \(probes) is over Globalping's limit of \(client.maxProbesPerMeasurement) \(token == nil ? "without a token" : "with a token"); asking \(client.maxProbesPerMeasurement)")
            }
            let resolver = local ? nil : source.resolverAddresses.first
            plan.remote = GlobalpingVantage(client: client, locations: try GlobalpingVantage.parseLocations(locations, probes: probes),
                                            probes: min(probes, client.maxProbesPerMeasurement), resolver: resolver)
        }
        registry.apply(to: &plan)
        plan.expectations = expectations
        plan.checkDelegation = !noDelegation
        plan.requestNSID = !noNSID
        plan.iteration.port = authoritativePort
        if let rootHints {
            do {
                plan.iteration.rootHints = try RootHints.parse(try FileText.read(rootHints), source: rootHints)
            } catch {
                throw usageFailure("--root-hints: \(error)")
            }
        }
        if trustAnchor == "none" {
            plan.trustAnchor = nil
        } else if trustAnchor == nil && rootHints != nil {
            plan.trustAnchor = nil
            plan.notes.append("DNSSEC chain of trust not validated: --root-hints names another root, and no --trust-anchor gives its keys")
        } else if let trustAnchor {
            do {
                plan.trustAnchor = try TrustAnchor.parse(try FileText.read(trustAnchor)).get()
            } catch {
                throw usageFailure("--trust-anchor \(TerminalText.escape(trustAnchor)): \(error)")
            }
        }
        if let parkingFile {
            do {
                plan.signatures = ParkingSignatures.bundled.adding(try ParkingSignatures.parseUserFile(try FileText.read(parkingFile), source: parkingFile))
            } catch {
                throw usageFailure("--parking: \(error)")
            }
        }
        return plan
    }
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check which resolvers serve current, stale or parked records for a domain.",
        discussion: """
            The truth comes from the domain's authoritative servers, found by iterating from \
            the root (or from --expect). Every resolver is asked every question; each answer \
            gets a status: current, stale, parked, nxdomain, nodata, servfail, refused, timeout \
            or error, with the time its cached answer should expire.

            Exit status: 0 every answering resolver is current (or --min-current is met); \
            1 not converged (any stale, parked, nxdomain, nodata or servfail); 2 cannot tell \
            (the truth could not be established, or no resolver answered); 64 bad input.
            """
    )

    @OptionGroup var options: CheckOptions

    @Option(help: "Output: table, json, ndjson or csv.")
    var format: OutputFormat = .table

    func run() async throws {
        let plan = try options.plan()
        let engine = QueryEngine(configuration: options.engine.configuration)
        // The process exits right after: its sockets close with it. Shutting the engine down
        // (or letting it deinit) cancelled a read source per socket and woke threads for it,
        // 4–10 ms between the last byte of output and the exit.
        defer { KeptUntilExit.keep(engine) }
        var progress: (@Sendable (String) -> Void)? = nil
        if Console.isTerminal(2) && format == .table {
            progress = { message in Console.err("\u{1B}[2K\rdnsprop: \(TerminalText.escape(message))…") }
        }
        let report = await PropagationCheck(plan: plan, engine: engine).run(progress: progress)
        if progress != nil { Console.err("\u{1B}[2K\r") }
        if let e = report.remoteError { Console.diagnostic(e) }
        if options.verbose {
            Console.diagnostic("walk from the root: \(report.iteration)")
            Console.diagnostic("geo truth: \(report.geo)")
            Console.diagnostic("engine: \(engine.statistics.summary)")
            if let remote = plan.remote { Console.diagnostic(globalpingBudgetLine(remote)) }
        }
        let outcome = report.outcome(minCurrent: options.minCurrent)
        switch format {
        case .table: Console.out(CheckReportTable(colour: !options.noColor && Console.useColour(fd: 1)).render(report))
        case .json:
            CheckReportJSON.write(report, outcome: outcome, toFileDescriptor: 1, trailer: [0x0A])
        case .ndjson: Console.out(CheckReportJSON.ndjsonLines(report, outcome: outcome).joined(separator: "\n") + "\n")
        case .csv: Console.out(CheckReportCSV.document(report))
        }
        for warning in report.diagnosis?.warnings ?? [] { Console.diagnostic("--warn-expiry: \(warning)") }
        let status = Diagnosis.exitStatus(outcome: outcome, warnings: report.diagnosis?.warnings ?? [])
        KeptUntilExit.keep(report)
        if status != 0 { throw ExitCode(status) }
    }
}

/// Values the process holds until it exits, right after: freeing a report of thousands of
/// verdicts (and its JSON tree) one object at a time took longer than writing it out.
/// Still reachable, so no leak checker counts them.
enum KeptUntilExit {
    private static let kept = Mutex<[any Sendable]>([])
    static func keep(_ value: any Sendable) { kept.withLock { $0.append(value) } }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case table, json, ndjson, csv }

enum URLText {
    static func valid(_ text: String) -> URL? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else { return nil }
        return url
    }
}

enum ProcessEnvironment {
    static func value(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }
}
