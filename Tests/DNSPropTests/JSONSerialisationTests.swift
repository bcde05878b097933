import Testing
import CLDNS
#if canImport(Glibc)
import Glibc
#endif
@testable import DNSProp

/// The byte-buffer JSON serialiser, the in-place timestamps and the wire printers
/// (issue 12's speed work) produce exactly what the code they replaced produced.
/// The replaced code is kept below, verbatim, as the reference.
@Suite("JSON serialisation, byte for byte")
struct JSONSerialisationTests {
    // MARK: - References: the implementations before the speed work (commit 9c8e1c6)

    enum Reference {
        static func serialized(_ v: JSONValue, pretty: Bool = false) -> String {
            var out = ""
            write(v, to: &out, pretty: pretty, indent: 0)
            return out
        }

        static func write(_ v: JSONValue, to out: inout String, pretty: Bool, indent: Int) {
            switch v {
            case .null: out += "null"
            case .bool(let b): out += b ? "true" : "false"
            case .int(let i): out += String(i)
            case .double(let d):
                if d.isFinite {
                    out += d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
                } else {
                    out += "null"
                }
            case .string(let s): writeString(s, to: &out)
            case .raw(let json): out += json
            case .array(let items):
                if items.isEmpty { out += "[]"; return }
                out += "["
                for (i, item) in items.enumerated() {
                    if i > 0 { out += "," }
                    if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                    write(item, to: &out, pretty: pretty, indent: indent + 1)
                }
                if pretty { out += "\n" + String(repeating: "  ", count: indent) }
                out += "]"
            case .object(let pairs):
                if pairs.isEmpty { out += "{}"; return }
                out += "{"
                for (i, (key, value)) in pairs.enumerated() {
                    if i > 0 { out += "," }
                    if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                    writeString(key, to: &out)
                    out += pretty ? ": " : ":"
                    write(value, to: &out, pretty: pretty, indent: indent + 1)
                }
                if pretty { out += "\n" + String(repeating: "  ", count: indent) }
                out += "}"
            }
        }

        static func writeString(_ s: String, to out: inout String) {
            out += "\""
            if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) {
                out += s
                out += "\""
                return
            }
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if TerminalText.needsEscape(scalar) {
                        for unit in String(scalar).utf16 {
                            let hex = String(unit, radix: 16)
                            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                        }
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            out += "\""
        }

        static func rfc3339(_ seconds: Double, fraction: Bool = false) -> String {
            let (y, mo, d, h, mi, s) = Timestamp.civil(seconds)
            func pad(_ v: Int, _ width: Int) -> String {
                let s = String(v)
                return String(repeating: "0", count: max(0, width - s.count)) + s
            }
            var out = "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2))"
            if fraction {
                let ms = Int(((seconds - seconds.rounded(.down)) * 1000).rounded(.down))
                out += "." + pad(ms, 3)
            }
            return out + "Z"
        }

        static func equalPresentation(_ a: String, _ b: String) -> Bool {
            func norm(_ s: String) -> String { let l = s.lowercased(); return l.hasSuffix(".") ? l : l + "." }
            return norm(a) == norm(b)
        }
    }

    // MARK: - Inputs

    /// Strings a resolver, a list file or a user could send our way.
    static let awkwardStrings: [String] = [
        "", "plain", "with space", "quote\"inside", "back\\slash", "new\nline", "cr\rtab\t", "\u{0}nul", "\u{1B}[2J",
        "\u{7F}del", "\u{85}c1", "\u{9F}", "é accent", "日本語", "emoji 🙂", "\u{202E}rtl override", "zw\u{200B}space",
        "tag\u{E0041}char", "line\u{2028}sep", "soft\u{AD}hyphen", "hangul\u{3164}filler", "mixed \"\\\n\u{1}é🙂",
        "/slash", "a very long string that is longer than fifteen bytes and needs the heap",
    ]

    static func resolver(_ i: Int) -> Resolver {
        var r = Resolver(address: try! ServerAddress(parsing: i % 2 == 0 ? "192.0.2.\(i % 250)" : "[2001:db8::\(i)]:5353"),
                         operatorName: awkwardStrings[i % awkwardStrings.count], countryCode: i % 3 == 0 ? "DE" : nil,
                         tags: i % 2 == 0 ? [.anycast, .filtering] : [])
        if i % 7 == 3 {
            r.vantage = Vantage(network: "globalping", continent: "EU", country: "NL", city: awkwardStrings[(i + 3) % awkwardStrings.count],
                                asn: i % 2 == 0 ? 3320 : nil, provider: "Provider \(i)", tags: ["eyeball", "x\u{1}y"], resolver: "private")
        }
        return r
    }

    static func report() throws -> PropagationReport {
        let name = try DomainName("bench.test")
        let statuses = VerdictStatus.allCases
        var questions: [QuestionReport] = []
        for (qi, type) in [RecordType.a, .aaaa, .mx, .txt].enumerated() {
            var verdicts: [Verdict] = []
            for i in 0..<40 {
                let status = statuses[(i + qi) % statuses.count]
                var v = Verdict(resolver: resolver(i), question: CheckQuestion(name: name, type: type, kind: i % 11 == 0 ? .delegation : .record),
                                status: status, reason: awkwardStrings[(i * 3) % awkwardStrings.count],
                                answers: i % 4 == 0 ? [] : Array(awkwardStrings[0..<(i % 5)]),
                                ttl: i % 3 == 0 ? nil : UInt32(i * 977 % 100_000), expiresAt: i % 2 == 0 ? nil : 1_764_470_400 + Double(i) * 3601.5,
                                rcode: i % 5 == 0 ? nil : ResponseCode(rawValue: UInt16(i % 24)),
                                rttMs: i % 6 == 0 ? nil : [0.001, 1.5, 12.345, 300, 0.1 + 0.2, 1e15, 123456.789, -0.0][i % 8],
                                attempts: i % 4, transport: i % 9 == 0 ? .tcp : .udp, retriedAfterServfail: i % 13 == 0,
                                parking: i % 8 == 5 ? ParkingSignatures.Match(provider: "Sedo", kind: "parking", indicator: "NS ns1.sedoparking.com.") : nil,
                                checkedAt: 1_764_470_400.123 + Double(i) * 0.0371, servedPastExpiry: i % 10 == 7,
                                latestAt: i % 3 == 1 ? 1_764_480_000 + Double(i) : nil, latestBasis: i % 3 == 1 ? "the zone's NS TTL (172800 s)" : nil)
                v.site = i % 4 == 1 ? awkwardStrings[(i + 5) % awkwardStrings.count] : nil
                v.followsStaleDelegation = i % 12 == 2 ? ["ns1.old.example.", "ns2.old.example."] : nil
                v.deferredUntil = i % 15 == 4 ? 1_764_470_999.5 : nil
                v.purge = i % 9 == 4 ? PurgeAdvice(page: PurgePage(service: "google", title: "Google Public DNS", url: "https://dns.google/cache"),
                                                   names: ["bench.test. A"]) : nil
                verdicts.append(v)
            }
            let truth: Truth
            switch qi {
            case 0: truth = Truth.expected(name: name, type: type, values: ["192.0.2.1", "192.0.2.2"])
            case 1: truth = Truth(name: name, type: type, answer: .data([ResourceRecord(owner: "bench.test.", type: .aaaa, ttl: 300, rdataFields: ["2001:db8::1"])]),
                                  source: .authoritative(zone: "bench.test.", servers: ["ns1.bench.test.", "ns\u{1B}2."], serial: 2026113001),
                                  notes: ["servers disagree\n\u{1B}[31m"], failure: nil)
            case 2: truth = Truth(name: name, type: type, answer: .nxdomain(soa: ResourceRecord(owner: "test.", type: .soa, ttl: 60, rdataFields: ["a.", "b.", "1", "2", "3", "4", "5"])),
                                  source: .authoritative(zone: "test.", servers: [], serial: nil), notes: [], failure: nil)
            default: truth = Truth(name: name, type: type, answer: nil, source: .expected, notes: [], failure: "no server answered \"at all\"")
            }
            questions.append(QuestionReport(question: CheckQuestion(name: name, type: type), truth: truth, verdicts: verdicts))
        }
        return PropagationReport(startedAt: 1_764_470_400.5, finishedAt: 1_764_470_401.999, names: [name], questions: questions,
                                 resolverCount: 40, remoteError: nil, notes: ["a note", "ünïcode \u{2066}"])
    }

    /// Deterministic pseudo-random trees (xorshift), every case of `JSONValue` at every depth.
    static func randomValue(_ state: inout UInt64, depth: Int) -> JSONValue {
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        let pick = depth > 3 ? Int(next() % 6) : Int(next() % 8)
        switch pick {
        case 0: return .null
        case 1: return .bool(next() % 2 == 0)
        case 2:
            let ints = [0, 1, -1, 9, 10, 99, 100, -100, Int.max, Int.min, Int.min + 1, 1_000_000_007]
            return .int(next() % 3 == 0 ? ints[Int(next() % UInt64(ints.count))] : Int(truncatingIfNeeded: next()))
        case 3:
            let doubles = [0.0, -0.0, 1.0, -1.5, 0.1, 1e15, 1e15 - 1, -1e15, 1e16, 1e-7, .nan, .infinity, -.infinity, 123.456, 2.5e-300]
            return .double(next() % 2 == 0 ? doubles[Int(next() % UInt64(doubles.count))] : Double(bitPattern: next()))
        case 4: return .string(awkwardStrings[Int(next() % UInt64(awkwardStrings.count))])
        case 5: return .raw(["{\"a\":1}", "[]", "null", "\"x\""][Int(next() % 4)])
        case 6: return .array((0..<Int(next() % 5)).map { _ in randomValue(&state, depth: depth + 1) })
        default:
            return .object((0..<Int(next() % 5)).map { _ in
                (awkwardStrings[Int(next() % UInt64(awkwardStrings.count))], randomValue(&state, depth: depth + 1))
            })
        }
    }

    // MARK: - Tests

    @Test func aCheckReportSerialisesAsBefore() throws {
        let report = try Self.report()
        for outcome in [VerdictPolicy.Outcome.converged, .notConverged, .cannotTell] {
            let doc = CheckReportJSON.document(report, outcome: outcome)
            let pretty = Reference.serialized(doc, pretty: true)
            #expect(doc.serialized(pretty: true) == pretty)
            #expect(doc.serializedBytes(pretty: true) == Array(pretty.utf8))
            #expect(doc.serialized() == Reference.serialized(doc))
            #expect(pretty.utf8.count > 50_000)   // the fixture covers much: 160 verdicts
        }
        let lines = CheckReportJSON.ndjsonLines(report, outcome: .notConverged)
        let reference = report.verdicts.map { v -> String in
            guard case .object(let pairs) = CheckReportJSON.verdict(v) else { return "" }
            return Reference.serialized(.object([("event", .string("result"))] + pairs))
        }
        #expect(Array(lines.dropLast()) == reference)
    }

    /// `check --format json` writes the results straight from the verdicts (no tree), and
    /// the document's arrays of more than `JSONValue.parallelChunk` elements in chunks on
    /// several threads: both must give the reference's bytes. 2,080 results: five chunks.
    @Test func resultsWrittenStraightAndInParallelAreTheSameBytes() throws {
        let small = try Self.report()
        var questions = small.questions
        for i in questions.indices { questions[i].verdicts = Array(repeating: questions[i].verdicts, count: 13).flatMap { $0 } }
        let big = PropagationReport(startedAt: small.startedAt, finishedAt: small.finishedAt, names: small.names, questions: questions,
                                    resolverCount: small.resolverCount, remoteError: nil, notes: small.notes)
        #expect(big.verdicts.count == 2080)
        for report in [small, big] {
            for outcome in [VerdictPolicy.Outcome.converged, .notConverged] {
                let doc = CheckReportJSON.document(report, outcome: outcome)
                let reference = Reference.serialized(doc, pretty: true)
                #expect(CheckReportJSON.prettyBytes(report, outcome: outcome) == Array(reference.utf8))
                #expect(doc.serialized(pretty: true) == reference)
                #expect(doc.serialized() == Reference.serialized(doc))
            }
        }
        // No results at all: "[]", as the tree writes it.
        let empty = PropagationReport(startedAt: 0, finishedAt: 0, names: small.names, questions: [], resolverCount: 0,
                                      remoteError: nil, notes: [])
        #expect(CheckReportJSON.prettyBytes(empty, outcome: .cannotTell)
                == Array(Reference.serialized(CheckReportJSON.document(empty, outcome: .cannotTell), pretty: true).utf8))
    }

    /// `check --format json` writes to its descriptor in pieces as the document is made.
    @Test func writtenToAFileInPiecesAsBefore() throws {
        let doc = CheckReportJSON.document(try Self.report(), outcome: .notConverged)
        let big = JSONValue.array(Array(repeating: doc, count: 12))   // several pieces of 256 KiB
        var template = Array("/tmp/dnsprop-json-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        #expect(fd >= 0)
        defer { close(fd); unlink(template) }
        #expect(big.write(toFileDescriptor: fd, pretty: true, trailer: [0x0A]))
        let expected = Array((Reference.serialized(big, pretty: true) + "\n").utf8)
        #expect(expected.count > 4 * (1 << 18))
        lseek(fd, 0, SEEK_SET)
        var read: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            read += chunk[0..<n]
        }
        #expect(read == expected)
        #expect(!big.write(toFileDescriptor: -1, pretty: false))
    }

    @Test func randomTreesSerialiseAsBefore() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            let v = Self.randomValue(&state, depth: 0)
            #expect(v.serialized() == Reference.serialized(v))
            #expect(v.serialized(pretty: true) == Reference.serialized(v, pretty: true))
        }
        for s in Self.awkwardStrings {
            var w = JSONWriter()
            w.string(s)
            var ref = ""
            Reference.writeString(s, to: &ref)
            #expect(w.out == ref)
        }
    }

    @Test func timestampsAsBefore() {
        var cases: [Double] = [0, 0.5, 0.999, 0.9999999, 59.999, 86399.9995, 951_782_400, 1_764_470_400.123, 253_402_300_799.999,
                               253_402_300_800, -1, -0.5, -86_400.25, -62_167_219_200, -62_167_219_201, 1e11]
        var state: UInt64 = 12345
        for _ in 0..<5000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            cases.append(Double(state >> 11) / Double(1 << 53) * 4e9 - 1e8)
        }
        for t in cases {
            #expect(Timestamp.rfc3339(t) == Reference.rfc3339(t), "\(t)")
            #expect(Timestamp.rfc3339(t, fraction: true) == Reference.rfc3339(t, fraction: true), "\(t)")
        }
    }

    @Test func namePresentationComparisonAsBefore() {
        let names = ["example.com.", "EXAMPLE.com", "Example.Com.", "example.com..", "", ".", "a", "A.", "b.", "ex-ample.com",
                     "\u{212A}.example.", "k.example.", "K.example", "é.example.", "É.example.", "xn--bcher-kva.example.",
                     "exa mple.", "example.co", "example.com.x", "@.", "`.", "[.", "{.", "_srv._tcp.example."]
        for a in names {
            for b in names {
                #expect(DomainName.equalPresentation(a, b) == Reference.equalPresentation(a, b), "\(a) vs \(b)")
            }
        }
    }

    /// Wire names printed in Swift exactly as ldns_rdf2str prints them (every byte value,
    /// the root, labels of every length), and ldns left to judge what is not a whole name.
    @Test func wireNamesPrintAsLDNSPrintsThem() {
        var state: UInt64 = 0xDEADBEEF
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        var samples: [[UInt8]] = [[0], [1, 0x61, 0], [3, 0x77, 0x77, 0x77, 7] + Array("example".utf8) + [3] + Array("COM".utf8) + [0]]
        samples.append([1, 0x2E, 1, 0x3B, 1, 0x28, 1, 0x29, 1, 0x5C, 1, 0x20, 1, 0x22, 1, 0x00, 1, 0x7F, 1, 0xFF, 1, 0x24, 0])
        samples.append([63] + Array(repeating: 0x61, count: 63) + [0])
        for _ in 0..<3000 {
            var wire: [UInt8] = []
            for _ in 0..<Int(next() % 5) {
                let len = Int(next() % 12) + 1
                wire.append(UInt8(len))
                for _ in 0..<len { wire.append(next() % 3 == 0 ? UInt8(truncatingIfNeeded: next()) : UInt8(0x61 + next() % 26)) }
            }
            wire.append(0)
            samples.append(wire)
        }
        for wire in samples {
            guard let rdf = wire.withUnsafeBufferPointer({ ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, $0.count, $0.baseAddress) }) else {
                Issue.record("ldns_rdf_new_frm_data failed"); continue
            }
            defer { ldns_rdf_deep_free(rdf) }
            guard let c = ldns_rdf2str(rdf) else { Issue.record("ldns could not print \(wire)"); continue }
            let ldns = String(cString: c)
            free(c)
            #expect(LDNSText.dname(UnsafeBufferPointer(start: ldns_rdf_data(rdf), count: wire.count)) == ldns, "\(wire)")
            #expect(LDNSText.presentation(rdf) == ldns)
        }
        // Not a whole name: the Swift printer declines and ldns decides.
        for bad: [UInt8] in [[], [1, 0x61], [2, 0x61, 0], [0, 0], [64] + Array(repeating: 0x61, count: 64) + [0],
                             Array(repeating: 1, count: 300)] {
            #expect(bad.withUnsafeBufferPointer { LDNSText.dname($0) } == nil, "\(bad)")
        }
        for value: UInt16 in [0, 1, 10, 255, 256, 65535] {
            var be = [UInt8(value >> 8), UInt8(value & 0xFF)]
            guard let rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16, 2, &be) else { continue }
            defer { ldns_rdf_deep_free(rdf) }
            let c = ldns_rdf2str(rdf)!
            #expect(LDNSText.presentation(rdf) == String(cString: c))
            free(c)
        }
    }
}
