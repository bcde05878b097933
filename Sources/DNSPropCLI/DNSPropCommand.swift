import ArgumentParser
import DNSProp

@main
struct DNSPropCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnsprop",
        abstract: "Check what public DNS resolvers around the world serve for a domain.",
        discussion: """
            dnsprop asks a worldwide list of public resolvers what they currently serve \
            for a domain and compares each answer with the truth.
            """,
        version: DNSPropVersion.string,
        subcommands: [CheckCommand.self, WatchCommand.self, QueryCommand.self, ResolversCommand.self, ReportCommand.self]
    )

    static func main() async {
        MallocTuning.apply()   // before Dispatch starts a thread
        await main(nil)
    }
}
