
/// The Public Suffix List (https://publicsuffix.org/list/), parsed as its format page says:
/// one rule a line, `//` comments, `*` as a whole label matching any one label, `!` for an
/// exception, and the `===BEGIN ICANN DOMAINS===` / `===BEGIN PRIVATE DOMAINS===` sections.
///
/// The registrable domain ("eTLD+1") is what a registry registers and what RDAP knows: the
/// public suffix plus one label. dnsprop uses the ICANN section only by default, because a
/// name under a private suffix (`foo.github.io`) is registered at the registry as the private
/// suffix's own domain (`github.io`), not as `foo.github.io`.
public struct PublicSuffixList: Sendable {
    public enum Section: String, Sendable { case icann, `private` }

    struct Rule: Sendable, Equatable {
        var labels: [String]      // A-labels, right to left; "*" for a wildcard label
        var exception: Bool
        var section: Section
    }

    /// The list's text, and the rules parsed from it so far.
    private let storage: Storage

    public static let bundled: PublicSuffixList = PublicSuffixList(text: BundledPublicSuffixList.text)

    public init(text: String) { storage = Storage(text: text) }

    /// Every rule, keyed by its rightmost label (the whole list parsed).
    var rules: [String: [Rule]] { storage.all().rules }
    public var ruleCount: Int { storage.all().count }

    /// The rules whose rightmost label is `tld` (an A-label, lower case). A check looks up
    /// one or two names: for an ASCII TLD only its own lines are taken apart; the rest of the
    /// list is skipped line by line. Other TLDs (`xn--…`) take the whole list, whose U-label
    /// rules need IDNA to be compared.
    func rules(forTLD tld: String) -> [Rule] {
        let plain = !tld.isEmpty && !tld.hasPrefix("xn--")
            && tld.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        return plain ? storage.rules(forPlainTLD: tld) : storage.all().rules[tld] ?? []
    }

    private final class Storage: Sendable {
        let text: String
        private let parsed = Protected<(all: (rules: [String: [Rule]], count: Int)?, byTLD: [String: [Rule]])>((nil, [:]))

        init(text: String) { self.text = text }

        func all() -> (rules: [String: [Rule]], count: Int) {
            if let all = parsed.withLock({ $0.all }) { return all }
            var text = self.text
            let all = text.withUTF8 { PublicSuffixList.parse($0, onlyTLD: nil) }
            parsed.withLock { $0.all = all }
            return all
        }

        func rules(forPlainTLD tld: String) -> [Rule] {
            let known: [Rule]? = parsed.withLock { p in p.all.map { $0.rules[tld] ?? [] } ?? p.byTLD[tld] }
            if let known { return known }
            var text = self.text
            var only = tld
            let rules = text.withUTF8 { b in only.withUTF8 { PublicSuffixList.parse(b, onlyTLD: $0).rules[tld] ?? [] } }
            parsed.withLock { $0.byTLD[tld] = rules }
            return rules
        }
    }

    /// Parses the list's bytes: a check reads the whole list at start-up for one look-up, so
    /// lines are taken apart as bytes (a String per label kept, nothing else allocated), and
    /// only rules written with U-labels go through IDNA.
    ///
    /// `onlyTLD` (lower-case ASCII, no `xn--`): only the rules whose rightmost label is that
    /// one; a line whose rightmost label has other bytes, or a U-label, is skipped unparsed
    /// (a U-label's A-label begins with `xn--`).
    private static func parse(_ b: UnsafeBufferPointer<UInt8>, onlyTLD: UnsafeBufferPointer<UInt8>?) -> (rules: [String: [Rule]], count: Int) {
        var section: Section? = nil
        var byTLD: [String: [Rule]] = [:]
        var count = 0
        let n = b.count
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0B || c == 0x0C }
        func occurs(_ needle: StaticString, _ from: Int, _ to: Int) -> Bool {
            let m = needle.utf8CodeUnitCount
            guard m > 0, to - from >= m else { return false }
            let p = needle.utf8Start
            var i = from
            while i + m <= to {
                if b[i] == p[0] {
                    var k = 1
                    while k < m, b[i + k] == p[k] { k += 1 }
                    if k == m { return true }
                }
                i += 1
            }
            return false
        }
        var lineStart = 0
        while lineStart < n {
            var lineEnd = lineStart
            while lineEnd < n, b[lineEnd] != 0x0A, b[lineEnd] != 0x0D { lineEnd += 1 }
            defer { lineStart = lineEnd + 1 }
            var s = lineStart
            while s < lineEnd, isSpace(b[s]) { s += 1 }
            guard s < lineEnd else { continue }
            if lineEnd - s >= 2, b[s] == 0x2F, b[s + 1] == 0x2F {      // "//": a comment
                if occurs("===BEGIN ICANN DOMAINS===", s, lineEnd) { section = .icann }
                else if occurs("===BEGIN PRIVATE DOMAINS===", s, lineEnd) { section = .private }
                else if occurs("===END ", s, lineEnd) { section = nil }
                continue
            }
            // A rule ends at the first white space (the format allows trailing text).
            var e = s
            var ascii = true
            while e < lineEnd, !isSpace(b[e]) { if b[e] >= 0x80 { ascii = false }; e += 1 }
            let exception = b[s] == 0x21                                // "!"
            let body = exception ? s + 1 : s
            guard body < e else { continue }
            if let only = onlyTLD {
                var d = e
                while d > body, b[d - 1] != 0x2E { d -= 1 }
                guard e - d == only.count else { continue }
                var same = true
                for k in 0..<only.count {
                    let c = b[d + k]
                    if (c >= 0x41 && c <= 0x5A ? c | 0x20 : c) != only[k] { same = false; break }
                }
                guard same else { continue }
            }
            // Rules are written with U-labels; names are compared as A-labels.
            var labels: [String] = []
            if ascii {
                var labelStart = body
                for i in body...e where i == e || b[i] == 0x2E {
                    let length = i - labelStart
                    guard length > 0 else { labels = []; break }
                    let from = labelStart
                    labels.append(String(unsafeUninitializedCapacity: length) { out in
                        for k in 0..<length {
                            let c = b[from + k]
                            out[k] = c >= 0x41 && c <= 0x5A ? c | 0x20 : c
                        }
                        return length
                    })
                    labelStart = i + 1
                }
            } else {
                let word = String(decoding: UnsafeBufferPointer(rebasing: b[body..<e]), as: UTF8.self)
                for label in word.split(separator: ".", omittingEmptySubsequences: false) {
                    if label == "*" { labels.append("*"); continue }
                    guard let name = DomainName(presentation: String(label)), name.labels.count == 1 else { labels = []; break }
                    labels.append(String(name.labels[0]))
                }
            }
            guard !labels.isEmpty, !labels.contains(where: \.isEmpty) else { continue }
            let rule = Rule(labels: labels.reversed(), exception: exception, section: section ?? .icann)
            byTLD[rule.labels[0], default: []].append(rule)
            count += 1
        }
        return (byTLD, count)
    }

    /// The public suffix of `name` under the rules of `sections` (nil when `name` is the root).
    /// A name that no rule matches has its last label as its public suffix (the implicit `*` rule).
    public func publicSuffix(of name: DomainName, sections: Set<Section> = [.icann]) -> [String]? {
        let labels = name.labels.reversed().map { $0.lowercased() }
        guard !labels.isEmpty else { return nil }
        var longest = 1
        var exceptionLength: Int? = nil
        for rule in rules(forTLD: labels[0]) where sections.contains(rule.section) {
            guard rule.labels.count <= labels.count else { continue }
            var matches = true
            for (i, l) in rule.labels.enumerated() where l != "*" && l != labels[i] { matches = false; break }
            guard matches else { continue }
            if rule.exception {
                // An exception rule prevails; the suffix is the rule without its leftmost label.
                exceptionLength = max(exceptionLength ?? 0, rule.labels.count - 1)
            } else {
                longest = max(longest, rule.labels.count)
            }
        }
        let length = exceptionLength ?? longest
        return Array(labels.prefix(length).reversed())
    }

    /// The registrable domain of `name`: its public suffix plus one label; nil when `name`
    /// is itself a public suffix (or the root).
    public func registrableDomain(of name: DomainName, sections: Set<Section> = [.icann]) -> DomainName? {
        guard let suffix = publicSuffix(of: name, sections: sections) else { return nil }
        let labels = name.labels
        guard labels.count > suffix.count else { return nil }
        let registrable = labels.suffix(suffix.count + 1).joined(separator: ".") + "."
        return DomainName(presentation: registrable)
    }
}
