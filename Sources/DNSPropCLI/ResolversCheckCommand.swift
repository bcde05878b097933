import Foundation
import ArgumentParser
import DNSProp

/// `dnsprop resolvers check`: is every resolver of the list still reachable, recursive, honest?
struct ResolversCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Test every resolver of a list: reachable (UDP, TCP), recursive, honest, DNSSEC, EDNS, site.",
        discussion: """
            Asks each resolver a few questions, politely (the engine's rate limits): a name it \
            cannot be authoritative for (recursion), a random label under a zone without a \
            wildcard (must be NXDOMAIN: an address there is a lie), a signed and a deliberately \
            broken name (DNSSEC validation), id.server and hostname.bind (CH TXT), all with NSID. \
            Exit 0 when all pass, 1 when some fail, 2 when none answered. --write FILE writes \
            the list back with dead, lying and non-recursive entries commented out (date and \
            reason) and the dnssec tag set as found; every other line is kept byte for byte.
            """
    )

    @OptionGroup var source: ResolverSourceOptions
    @OptionGroup var engine: EngineOptions

    @Option(name: .customLong("recursion-name"), help: ArgumentHelp("A name with an A record that no resolver is authoritative for.", valueName: "NAME"))
    var recursionName: String = "example.com."

    @Option(name: .customLong("honesty-zone"), help: ArgumentHelp("A zone that exists and has no wildcard: a random label under it must be NXDOMAIN.", valueName: "ZONE"))
    var honestyZone: String = "example.com."

    @Option(name: .customLong("dnssec-good"), help: ArgumentHelp("A DNSSEC-signed name (validating resolvers set AD).", valueName: "NAME"))
    var dnssecGood: String = "isc.org."

    @Option(name: .customLong("dnssec-bad"), help: ArgumentHelp("A deliberately mis-signed name (validating resolvers SERVFAIL).", valueName: "NAME"))
    var dnssecBad: String = "dnssec-failed.org."

    @Option(name: .customLong("tcp-timeout"), help: ArgumentHelp("Seconds to wait for the TCP answer.", valueName: "S"))
    var tcpTimeout: Double = 3

    @Option(name: .long, help: "Output format: table or json.")
    var format: Format = .table

    @Option(name: .long, help: ArgumentHelp("Write the cleaned list here (resolvers.txt format).", valueName: "FILE"))
    var write: String?

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    func validate() throws {
        guard tcpTimeout > 0, tcpTimeout <= 60 else { throw ValidationError("--tcp-timeout must be more than 0 and at most 60 seconds") }
        if write != nil && !source.resolverAddresses.isEmpty {
            throw ValidationError("--write rewrites a list: use it with --resolvers FILE or the built-in list, not --resolver")
        }
    }

    func name(_ text: String, _ option: String) throws -> DomainName {
        do { return try DomainName(text) } catch { throw usageFailure("\(option): \(error)") }
    }

    func run() async throws {
        let resolvers = try source.load()
        var probes = ResolverHealthCheck.Probes(recursionName: try name(recursionName, "--recursion-name"),
                                                honestyZone: try name(honestyZone, "--honesty-zone"),
                                                signedName: try name(dnssecGood, "--dnssec-good"),
                                                brokenName: try name(dnssecBad, "--dnssec-bad"))
        probes.tcpTimeout = tcpTimeout
        let queryEngine = QueryEngine(configuration: engine.configuration)
        defer { queryEngine.shutdown() }
        let results = await ResolverHealthCheck(engine: queryEngine, probes: probes).run(resolvers)
        switch format {
        case .table: Console.out(ResolverHealthReport.table(results))
        case .json: Console.out(ResolverHealthReport.document(results).serialized(pretty: true) + "\n")
        }
        if let write {
            let original: String
            if let file = source.resolversFile {
                do { original = try FileText.read(file) } catch { throw usageFailure("cannot read resolver list: \(error)") }
            } else {
                original = ResolverList.bundledText
            }
            let text = ResolverListRewriter.rewrite(original, results: results, date: Timestamp.rfc3339(WallClock.now()).prefix(10).description)
            do { try text.write(toFile: write, atomically: true, encoding: .utf8) } catch {
                throw usageFailure("--write \(TerminalText.escape(write)): \(error.localizedDescription)")
            }
            Console.err("wrote \(TerminalText.escape(write))\n")
        }
        let code = ResolverHealthReport.exitStatus(results)
        if code != 0 { throw ExitCode(code) }
    }
}
