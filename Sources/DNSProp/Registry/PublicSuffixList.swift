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

    struct Rule: Sendable {
        var labels: [String]      // A-labels, right to left; "*" for a wildcard label
        var exception: Bool
        var section: Section
    }

    /// Rules keyed by their rightmost label, for a quick look-up.
    private let rules: [String: [Rule]]
    public let ruleCount: Int

    public static let bundled: PublicSuffixList = PublicSuffixList(text: BundledPublicSuffixList.text)

    public init(text: String) {
        var section: Section? = nil
        var byTLD: [String: [Rule]] = [:]
        var count = 0
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = raw.trimmingSpaces
            if line.hasPrefix("//") {
                if line.contains("===BEGIN ICANN DOMAINS===") { section = .icann }
                else if line.contains("===BEGIN PRIVATE DOMAINS===") { section = .private }
                else if line.contains("===END ") { section = nil }
                continue
            }
            // A rule ends at the first white space (the format allows trailing text).
            guard let word = line.split(separator: " ", maxSplits: 1).first.map(String.init), !word.isEmpty else { continue }
            var body = word
            let exception = body.hasPrefix("!")
            if exception { body.removeFirst() }
            // Rules are written with U-labels; names are compared as A-labels.
            let labels: [String]
            if body.allSatisfy({ $0.isASCII }) {
                labels = body.lowercased().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            } else {
                var converted: [String] = []
                for label in body.split(separator: ".", omittingEmptySubsequences: false) {
                    if label == "*" { converted.append("*"); continue }
                    guard let name = DomainName(presentation: String(label)), name.labels.count == 1 else { converted = []; break }
                    converted.append(String(name.labels[0]))
                }
                labels = converted
            }
            guard !labels.isEmpty, !labels.contains(where: \.isEmpty) else { continue }
            let rule = Rule(labels: labels.reversed(), exception: exception, section: section ?? .icann)
            byTLD[rule.labels[0], default: []].append(rule)
            count += 1
        }
        rules = byTLD
        ruleCount = count
    }

    /// The public suffix of `name` under the rules of `sections` (nil when `name` is the root).
    /// A name that no rule matches has its last label as its public suffix (the implicit `*` rule).
    public func publicSuffix(of name: DomainName, sections: Set<Section> = [.icann]) -> [String]? {
        let labels = name.labels.reversed().map { $0.lowercased() }
        guard !labels.isEmpty else { return nil }
        var longest = 1
        var exceptionLength: Int? = nil
        for rule in rules[labels[0]] ?? [] where sections.contains(rule.section) {
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
