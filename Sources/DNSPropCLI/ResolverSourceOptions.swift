import ArgumentParser
import DNSProp

/// `--resolvers FILE` / `--resolver ADDR`: replace the built-in list, in every command.
struct ResolverSourceOptions: ParsableArguments {
    @Option(name: .customLong("resolvers"), help: ArgumentHelp(
        "Read resolvers from FILE (resolvers.txt format) instead of the built-in list.", valueName: "FILE"))
    var resolversFile: String?

    @Option(name: .customLong("resolver"), help: ArgumentHelp(
        "Ask this resolver (repeatable): 9.9.9.9, 2620:fe::fe, 127.0.0.1:5353, [::1]:5353. Replaces the list.",
        valueName: "ADDR"))
    var resolverAddresses: [String] = []

    func validate() throws {
        if resolversFile != nil && !resolverAddresses.isEmpty {
            throw ValidationError("--resolvers and --resolver both replace the list; give one or the other")
        }
        for text in resolverAddresses {
            do { _ = try ServerAddress(parsing: text) } catch { throw ValidationError("--resolver: \(error)") }
        }
    }

    /// The resolvers to use. List problems go to stderr; a list with no usable entry is a usage error.
    func load() throws -> [Resolver] {
        if !resolverAddresses.isEmpty {
            var seen = Set<ServerAddress>()
            var out: [Resolver] = []
            for text in resolverAddresses {
                let address = try ServerAddress(parsing: text)
                if seen.insert(address).inserted { out.append(Resolver(address: address, origin: "--resolver")) }
            }
            return out
        }
        let list: ResolverList
        if let resolversFile {
            let text: String
            do { text = try FileText.read(resolversFile) } catch {
                throw usageFailure("cannot read resolver list: \(error)")
            }
            list = ResolverList.parse(text, source: resolversFile)
        } else {
            list = ResolverList.bundled
        }
        for problem in list.problems { Console.diagnostic("\(problem)") }
        guard !list.resolvers.isEmpty else {
            throw usageFailure("\(resolversFile ?? "the built-in list") holds no usable resolver")
        }
        return list.resolvers
    }
}
