#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import DNSProp

/// `dnsprop query`: the raw answers of every resolver, no verdicts.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Ask every resolver the same questions and print what each answered (no verdicts).",
        discussion: "Like dig against the whole resolver list at once. Exit status: 0 when every query got an answer (any rcode), 1 when some did not, 64 for bad input."
    )

    @Argument(help: "Domain names to ask about (internationalised names are converted to A-labels).")
    var names: [String]

    @Option(name: .customLong("type"), parsing: .singleValue, help: ArgumentHelp("Record types, comma-separated or repeated.", valueName: "T,…"))
    var types: [String] = ["A"]

    @Flag(name: .customLong("no-rd"), help: "Clear the RD bit (ask authoritative servers).")
    var noRecursion = false

    @OptionGroup var source: ResolverSourceOptions
    @OptionGroup var engine: EngineOptions

    @Option(help: "Output: table, ndjson, or none (only the summary on stderr).")
    var format: Format = .table

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, ndjson, none }

    func validate() throws {
        guard !names.isEmpty else { throw ValidationError("give at least one domain name") }
    }

    func run() async throws {
        let names: [DomainName], types: [RecordType]
        do {
            names = try CheckInput.names(self.names)
            types = try CheckInput.types(self.types)
        } catch {
            throw ValidationError(error.message)
        }
        let resolvers = try source.load()
        let options = noRecursion ? QueryOptions.authoritative : QueryOptions.recursive
        var templates: [QueryTemplate] = []
        for name in names { for type in types { templates.append(try QueryTemplate(name: name, type: type, options: options)) } }
        let fanOut = ResolverFanOut(resolvers: resolvers, templates: templates)
        let engine = QueryEngine(configuration: engine.configuration)
        let started = MonotonicTime.now()
        let results = await engine.results(for: fanOut.requests)
        let elapsed = MonotonicTime.now() - started
        // The resolver's JSON is the same on every line: serialise it once per resolver.
        var resolverJSON: [ServerAddress: String] = [:]
        var writer = JSONWriter()
        var table = TextTable(headers: ["RESOLVER", "NAME", "TYPE", "RCODE", "ANSWER", "TTL", "MS"])
        for result in results {
            let resolver = fanOut.owner(of: result.index).resolver
            switch format {
            case .ndjson:
                let rj = resolverJSON[resolver.address] ?? ResolverJSON.object(resolver).serialized()
                resolverJSON[resolver.address] = rj
                RawResultJSON.write(result, resolverJSON: rj, into: &writer)
                writer.out += "\n"
                if writer.out.utf8.count > 1 << 16 { Console.out(writer.out); writer.out = "" }
            case .table:
                let q = result.request.query.question
                let ms = result.rtt.map { String(Int(($0 * 1000).rounded())) } ?? ""
                switch result.outcome {
                case .success(let m):
                    let answers = m.answers.filter { $0.type == q.type || $0.type == .cname }
                    let text = answers.isEmpty ? "-" : answers.map(\.rdata).joined(separator: " ")
                    let ttl = answers.map(\.ttl).min().map(String.init) ?? ""
                    table.append([resolver.address.description, q.name, q.type.name, m.rcode.name, text, ttl, ms])
                case .failure(let e):
                    table.append([resolver.address.description, q.name, q.type.name, "-", e.description, "", ""])
                }
            case .none:
                break
            }
        }
        if format == .table { Console.out(table.render(maxWidths: [4: 60])) } else { Console.out(writer.out) }
        let failed = results.filter { $0.message == nil }.count
        let stats = engine.statistics
        Console.diagnostic("\(results.count) queries to \(resolvers.count) resolvers in \(String(format3(elapsed))) s: "
                    + "\(results.count - failed) answered, \(failed) without answer; "
                    + "\(stats.retransmissions) retransmissions, \(stats.tcpFallbacks) over TCP, \(stats.unsolicited + stats.mismatched) dropped")
        if failed > 0 { throw ExitCode(1) }
    }
}

func format3(_ x: Double) -> String {
    let ms = Int((x * 1000).rounded())
    let frac = String(ms % 1000)
    return "\(ms / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
}
