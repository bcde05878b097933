import ArgumentParser
import DNSProp

struct ResolversCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolvers",
        abstract: "Inspect the resolver list.",
        subcommands: [List.self, ResolversCheckCommand.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the resolvers a check would ask.",
            discussion: """
                Without --resolvers or --resolver, this is the list built into dnsprop \
                (a copy of resolvers.txt). Problems in a list file are reported on stderr \
                with file and line; bad lines are skipped.
                """
        )

        @OptionGroup var source: ResolverSourceOptions

        @Option(name: .long, help: ArgumentHelp("Only resolvers in these countries (ISO codes, comma-separated).", valueName: "CC,…"))
        var country: String?

        @Option(name: .long, help: ArgumentHelp("Only resolvers on this continent: AF, AS, EU, NA, OC, SA or a name.", valueName: "CONTINENT"))
        var continent: String?

        @Option(name: .customLong("operator"), help: ArgumentHelp("Only resolvers whose operator contains this text (any case).", valueName: "TEXT"))
        var operatorFilter: String?

        @Option(name: .long, help: ArgumentHelp("Only resolvers with this tag: anycast, unicast, filtering, ecs, isp.", valueName: "TAG"))
        var tag: String?

        @Option(name: .long, help: "Output format: table or json.")
        var format: ListFormat = .table

        enum ListFormat: String, ExpressibleByArgument, CaseIterable { case table, json }

        func validate() throws {
            if let continent, Continent(userInput: continent) == nil {
                throw ValidationError("unknown continent '\(TerminalText.escape(continent))'; use one of AF, AS, EU, NA, OC, SA, AN or its name")
            }
            if let tag, Resolver.Tag(rawValue: tag.lowercased()) == nil {
                throw ValidationError("unknown tag '\(TerminalText.escape(tag))'; use one of \(Resolver.Tag.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let country {
                for code in country.split(separator: ",") where Continent.of(country: code.uppercased()) == nil {
                    throw ValidationError("'\(TerminalText.escape(String(code)))' is not an ISO 3166-1 alpha-2 country code")
                }
            }
        }

        func run() throws {
            var resolvers = try source.load()
            if let country {
                let codes = Set(country.split(separator: ",").map { $0.uppercased() })
                resolvers = resolvers.filter { $0.countryCode.map(codes.contains) ?? false }
            }
            if let continent, let c = Continent(userInput: continent) {
                resolvers = resolvers.filter { $0.continent == c }
            }
            if let operatorFilter {
                let needle = operatorFilter.lowercased()
                resolvers = resolvers.filter { ($0.operatorName ?? "").lowercased().contains(needle) }
            }
            if let tag, let t = Resolver.Tag(rawValue: tag.lowercased()) {
                resolvers = resolvers.filter { $0.tags.contains(t) }
            }
            switch format {
            case .json:
                Console.out(ResolverJSON.document(resolvers).serialized(pretty: true) + "\n")
            case .table:
                var table = TextTable(headers: ["ADDRESS", "OPERATOR", "CC", "CONT", "LOCATION", "TAGS"])
                for r in resolvers {
                    table.append([r.address.description, r.operatorName ?? "", r.countryCode ?? "",
                                  r.continent?.rawValue ?? "", r.location ?? "",
                                  r.tags.sorted().map(\.rawValue).joined(separator: ",")])
                }
                Console.out(table.render(maxWidths: [1: 30, 4: 18]))
                let countries = Set(resolvers.compactMap(\.countryCode)).count
                let continents = Set(resolvers.compactMap(\.continent)).count
                Console.err("\(resolvers.count) resolvers, \(countries) countries, \(continents) continents, "
                            + "\(resolvers.filter { $0.address.ip.isIPv6 }.count) IPv6\n")
            }
        }
    }
}
