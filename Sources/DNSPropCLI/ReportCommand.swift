import ArgumentParser
import Foundation
import DNSProp

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Turn a `watch --record` file into a postmortem report (Markdown or self-contained HTML).",
        discussion: """
            The report says when the fix landed (the first round in which the authoritative answer \
            changed, or that it had landed before the recording), the curve of current resolvers \
            over time, each resolver's predicted flip (by its TTL and at the latest) against the \
            check that first found it current, and which resolvers outlived their TTL, with the \
            recorded basis (served past expiry, stale delegation, the latest bound). \
            HTML is one file with an inline SVG chart and no external resource; every recorded \
            string is escaped for the format.

            A line that is not JSON or lacks a field (a recording cut short) is reported on stderr \
            with its line number and skipped; the rest is read.

            Exit status: 0 report written (also with skipped lines); 64 unreadable file, or no \
            complete round in it.
            """
    )

    @Argument(help: ArgumentHelp("The NDJSON file written by `dnsprop watch --record`.", valueName: "ROUNDS.ndjson"))
    var file: String

    @Option(help: "md (Markdown) or html.")
    var format: ReportFormat = .md

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write the report to FILE instead of stdout.", valueName: "FILE"))
    var output: String?

    enum ReportFormat: String, ExpressibleByArgument, CaseIterable { case md, html }

    /// A recording of a long watch over thousands of resolvers is large; past this it is refused.
    static let maximumSize = 1 << 30

    func run() throws {
        let url = URL(fileURLWithPath: file)
        let data: Data
        do {
            let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
            guard size <= Self.maximumSize else { throw usageFailure("\(TerminalText.escape(file)): larger than \(Self.maximumSize >> 20) MiB") }
            data = try Data(contentsOf: url)
        } catch let e as ExitCode {
            throw e
        } catch {
            throw usageFailure("\(TerminalText.escape(file)): cannot read it (\((error as NSError).localizedDescription))")
        }
        let run = RecordedRun(text: String(decoding: data, as: UTF8.self))
        for problem in run.problems { Console.diagnostic("\(file): \(problem)") }
        guard !run.rounds.isEmpty else { throw usageFailure("\(TerminalText.escape(file)): no complete round (a summary line and its results) in it") }
        let postmortem = Postmortem(run)
        let text = format == .md ? PostmortemMarkdown.render(postmortem) : PostmortemHTML.render(postmortem)
        if let output {
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw usageFailure("-o \(TerminalText.escape(output)): cannot write it (\((error as NSError).localizedDescription))")
            }
        } else {
            Console.out(text)
        }
    }
}
