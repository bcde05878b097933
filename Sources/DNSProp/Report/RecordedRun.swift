import Foundation

/// A `watch --record` file read back: the NDJSON lines of `check --format ndjson`
/// with `round` and `timestamp` on each (docs/output-schema.md), grouped by round.
///
/// Reading never stops at a bad line: a line that is not JSON (a crash cut it short),
/// lacks a field the report needs, or has a field of the wrong type is skipped with a
/// problem naming its line number, and the rest is read. Strings are kept as they are
/// (network text): the renderers escape them.
public struct RecordedRun: Sendable {
    public struct Result: Sendable {
        public var line: Int
        public var resolver: String
        public var operatorName: String?
        public var name: String
        public var type: String
        public var isDelegation: Bool
        public var status: String
        public var reason: String
        public var answers: [String]
        public var ttl: Int?
        public var expiresAt: Double?
        public var latestAt: Double?
        public var latestBasis: String?
        public var followsStaleDelegation: [String]
        public var servedPastExpiry: Bool
        public var deferredUntil: Double?
        public var parkingProvider: String?
        public var checkedAt: Double
        public var isCurrent: Bool { status == "current" }
        public var question: String { "\(name) \(type)" + (isDelegation ? " (delegation)" : "") }
    }

    public struct TruthLine: Sendable, Equatable {
        public var name: String
        public var type: String
        public var answers: [String]
        public var negative: String?
        public var serial: Int?
        public var error: String?
    }

    public struct Round: Sendable {
        public var number: Int
        public var timestamp: Double
        public var startedAt: Double?
        public var finishedAt: Double
        public var names: [String]
        public var truth: [TruthLine]
        public var resolvers: Int
        public var resolversCurrent: Int
        public var resolversAnswering: Int
        public var currentPercent: Double
        public var outcome: String
        public var results: [Result]
    }

    public var rounds: [Round] = []
    /// `line N: what is wrong`, in file order.
    public var problems: [String] = []

    public init(rounds: [Round], problems: [String]) {
        self.rounds = rounds
        self.problems = problems
    }

    struct LineError: Error { var message: String }

    public init(text: String) {
        var results: [Int: [Result]] = [:]
        var summaries: [Int: Round] = [:]
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            do {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw LineError(message: line.first == "{" ? "not complete JSON (cut short?)" : "not a JSON object")
                }
                let f = Fields(object)
                let round = try f.int("round")
                switch try f.string("event") {
                case "result":
                    results[round, default: []].append(try Self.result(f, line: lineNumber))
                case "summary":
                    guard summaries[round] == nil else { throw LineError(message: "a second summary for round \(round); ignored") }
                    summaries[round] = try Self.round(f, number: round)
                case let other:
                    throw LineError(message: "unknown event '\(other)'")
                }
            } catch let e as LineError {
                problems.append("line \(lineNumber): \(e.message); skipped")
            } catch {
                problems.append("line \(lineNumber): \(error); skipped")
            }
        }
        for number in summaries.keys.sorted() {
            var r = summaries[number]!
            r.results = results.removeValue(forKey: number) ?? []
            rounds.append(r)
        }
        for number in results.keys.sorted() {
            problems.append("round \(number): \(results[number]!.count) result line(s) without the round's summary line (the recording was cut short?); round left out")
        }
    }

    static func result(_ f: Fields, line: Int) throws -> Result {
        let resolver = try f.object("resolver")
        return Result(line: line,
                      resolver: try resolver.string("address"),
                      operatorName: try resolver.optionalString("operator"),
                      name: try f.string("name"), type: try f.string("type"),
                      isDelegation: (try f.optionalString("check")) == "delegation",
                      status: try f.string("status"), reason: try f.optionalString("reason") ?? "",
                      answers: try f.stringArray("answers") ?? [],
                      ttl: try f.optionalInt("ttl"),
                      expiresAt: try f.optionalTime("expiresAt"), latestAt: try f.optionalTime("latestAt"),
                      latestBasis: try f.optionalString("latestBasis"),
                      followsStaleDelegation: try f.stringArray("followsStaleDelegation") ?? [],
                      servedPastExpiry: try f.optionalBool("servedPastExpiry") ?? false,
                      deferredUntil: try f.optionalTime("deferredUntil"),
                      parkingProvider: try f.optionalObject("parking")?.optionalString("provider"),
                      checkedAt: try f.time("checkedAt"))
    }

    static func round(_ f: Fields, number: Int) throws -> Round {
        let summary = try f.object("summary")
        let truths = try f.objectArray("truth") ?? []
        return Round(number: number, timestamp: try f.time("timestamp"),
                     startedAt: try f.optionalTime("startedAt"), finishedAt: try f.optionalTime("finishedAt") ?? f.time("timestamp"),
                     names: try f.stringArray("names") ?? [],
                     truth: try truths.map { t in
                         TruthLine(name: try t.string("name"), type: try t.string("type"), answers: try t.stringArray("answers") ?? [],
                                   negative: try t.optionalString("negative"), serial: try t.optionalInt("serial"),
                                   error: try t.optionalString("error"))
                     },
                     resolvers: try summary.int("resolvers"), resolversCurrent: try summary.int("resolversCurrent"),
                     resolversAnswering: try summary.optionalInt("resolversAnswering") ?? 0,
                     currentPercent: try summary.optionalDouble("currentPercent") ?? 0,
                     outcome: try summary.string("outcome"), results: [])
    }

    /// Typed access to one JSON object's fields, with messages that name the field.
    struct Fields {
        let o: [String: Any]
        let path: String
        init(_ o: [String: Any], path: String = "") { self.o = o; self.path = path }
        /// JSONSerialization gives true/false as NSNumber too; `is Bool` also holds for 0 and 1.
        static func isBoolean(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }
        func name(_ k: String) -> String { "'\(path)\(k)'" }
        func present(_ k: String) -> Any? { o[k].flatMap { $0 is NSNull ? nil : $0 } }
        func string(_ k: String) throws -> String {
            guard let v = present(k) else { throw LineError(message: "no \(name(k))") }
            guard let s = v as? String else { throw LineError(message: "\(name(k)) is not a string") }
            return s
        }
        func optionalString(_ k: String) throws -> String? {
            guard let v = present(k) else { return nil }
            guard let s = v as? String else { throw LineError(message: "\(name(k)) is not a string") }
            return s
        }
        func optionalInt(_ k: String) throws -> Int? {
            guard let v = present(k) else { return nil }
            guard let n = v as? NSNumber, !Self.isBoolean(n), let i = Int(exactly: n.doubleValue) else { throw LineError(message: "\(name(k)) is not an integer") }
            return i
        }
        func int(_ k: String) throws -> Int {
            guard let i = try optionalInt(k) else { throw LineError(message: "no \(name(k))") }
            return i
        }
        func optionalDouble(_ k: String) throws -> Double? {
            guard let v = present(k) else { return nil }
            guard let n = v as? NSNumber, !Self.isBoolean(n), n.doubleValue.isFinite else { throw LineError(message: "\(name(k)) is not a number") }
            return n.doubleValue
        }
        func optionalBool(_ k: String) throws -> Bool? {
            guard let v = present(k) else { return nil }
            guard let n = v as? NSNumber, Self.isBoolean(n) else { throw LineError(message: "\(name(k)) is not true or false") }
            return n.boolValue
        }
        func optionalTime(_ k: String) throws -> Double? {
            guard let s = try optionalString(k) else { return nil }
            guard let t = RFC3339.parse(s) else { throw LineError(message: "\(name(k)) is not an RFC 3339 time") }
            return t
        }
        func time(_ k: String) throws -> Double {
            guard let t = try optionalTime(k) else { throw LineError(message: "no \(name(k))") }
            return t
        }
        func stringArray(_ k: String) throws -> [String]? {
            guard let v = present(k) else { return nil }
            guard let a = v as? [Any], let s = a as? [String], s.count == a.count else { throw LineError(message: "\(name(k)) is not a list of strings") }
            return s
        }
        func optionalObject(_ k: String) throws -> Fields? {
            guard let v = present(k) else { return nil }
            guard let d = v as? [String: Any] else { throw LineError(message: "\(name(k)) is not an object") }
            return Fields(d, path: path + k + ".")
        }
        func object(_ k: String) throws -> Fields {
            guard let f = try optionalObject(k) else { throw LineError(message: "no \(name(k))") }
            return f
        }
        func objectArray(_ k: String) throws -> [Fields]? {
            guard let v = present(k) else { return nil }
            guard let a = v as? [Any] else { throw LineError(message: "\(name(k)) is not a list") }
            return try a.map { item in
                guard let d = item as? [String: Any] else { throw LineError(message: "\(name(k)) holds something that is not an object") }
                return Fields(d, path: path + k + "[].")
            }
        }
    }
}
