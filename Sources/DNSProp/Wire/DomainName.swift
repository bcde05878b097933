import CIDN2

/// A domain name given by a user, validated and in its ASCII (A-label) form.
///
/// Internationalised names are converted with libidn2 (IDNA2008 with the
/// UTS #46 non-transitional mapping, as browsers do) because ldns has no IDNA
/// support (ldns #25).
public struct DomainName: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Absolute presentation form in lower case, e.g. `www.xn--bcher-kva.example.`.
    public let text: String
    /// What the user typed, kept for messages.
    public let input: String

    public var description: String { text }

    /// The labels, without the root: `["www", "example"]`.
    public var labels: [Substring] { text.dropLast().split(separator: ".", omittingEmptySubsequences: false).filter { !$0.isEmpty } }

    public var isRoot: Bool { text == "." }

    /// The name with its first label removed; the root's parent is the root.
    public var parent: DomainName {
        let l = labels
        guard l.count > 1 else { return DomainName(validated: ".", input: ".") }
        let rest = l.dropFirst().joined(separator: ".") + "."
        return DomainName(validated: rest, input: rest)
    }

    /// True when `self` is `other` or below it.
    public func isSubdomain(of other: DomainName) -> Bool {
        other.isRoot || self == other || text.hasSuffix("." + other.text)
    }

    private init(validated text: String, input: String) {
        self.text = text
        self.input = input
    }

    /// Builds a name from trusted presentation text (e.g. an NS target ldns printed), lower-cased.
    /// Returns nil when the text is not a valid presentation name.
    public init?(presentation: String) {
        guard let name = try? DomainName(presentation, allowWildcard: true) else { return nil }
        self = name
    }

    public init(_ input: String) throws(NameError) {
        try self.init(input, allowWildcard: false)
    }

    init(_ input: String, allowWildcard: Bool) throws(NameError) {
        var s = input.trimmingSpaces
        guard !s.isEmpty else { throw NameError(input: input, problem: .empty) }
        if s == "." {
            self.init(validated: ".", input: input)
            return
        }
        if s.hasSuffix(".") { s.removeLast() }
        if s.hasPrefix(".") { throw NameError(input: input, problem: .emptyLabel) }
        if s.contains("..") { throw NameError(input: input, problem: .emptyLabel) }
        if !s.allSatisfy(\.isASCII) {
            s = try Self.toASCII(s, input: input)
        }
        s = s.lowercased()
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        var wireLength = 1
        for (index, label) in labels.enumerated() {
            guard !label.isEmpty else { throw NameError(input: input, problem: .emptyLabel) }
            guard label.utf8.count <= 63 else {
                throw NameError(input: input, problem: .labelTooLong(String(label), label.utf8.count))
            }
            wireLength += label.utf8.count + 1
            if label == "*" && index == 0 && allowWildcard { continue }
            for scalar in label.unicodeScalars {
                let ok = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_"
                guard ok else { throw NameError(input: input, problem: .badCharacter(scalar, String(label))) }
            }
            if label.hasPrefix("-") || label.hasSuffix("-") {
                throw NameError(input: input, problem: .hyphenAtEdge(String(label)))
            }
        }
        guard wireLength <= 255 else { throw NameError(input: input, problem: .tooLong(wireLength)) }
        self.init(validated: s + ".", input: input)
    }

    private static func toASCII(_ s: String, input: String) throws(NameError) -> String {
        var output: UnsafeMutablePointer<CChar>? = nil
        let flags = Int32(IDN2_NONTRANSITIONAL.rawValue) | Int32(IDN2_NFC_INPUT.rawValue)
        let rc = idn2_to_ascii_8z(s, &output, flags)
        guard rc == Int32(IDN2_OK.rawValue), let output else {
            let reason = idn2_strerror(rc).map { String(cString: $0) } ?? "code \(rc)"
            throw NameError(input: input, problem: .idna(reason))
        }
        defer { idn2_free(output) }
        return String(cString: output)
    }

    /// Case-insensitive equality of two presentation names (RFC 4343); a missing final dot is tolerated.
    public static func equalPresentation(_ a: String, _ b: String) -> Bool {
        // ASCII names (nearly all): compared in place, letters folded, one final dot optional.
        let fast: Bool?? = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in asciiEqualPresentation(x, y) } ?? nil
        }
        if let fast, let fast { return fast }
        func norm(_ s: String) -> String { let l = s.lowercased(); return l.hasSuffix(".") ? l : l + "." }
        return norm(a) == norm(b)
    }

    /// `equalPresentation` for two ASCII strings; nil when either has a byte beyond ASCII
    /// (Unicode lower-casing decides then: U+212A KELVIN SIGN lower-cases to `k`).
    private static func asciiEqualPresentation(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool? {
        @inline(__always) func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }
        var nx = x.count, ny = y.count
        if nx > 0 && x[nx - 1] == 0x2E { nx -= 1 }
        if ny > 0 && y[ny - 1] == 0x2E { ny -= 1 }
        var equal = nx == ny
        for i in 0..<max(nx, ny) {
            let c: UInt8 = i < nx ? x[i] : 0, d: UInt8 = i < ny ? y[i] : 0
            if c >= 0x80 || d >= 0x80 { return nil }
            if lower(c) != lower(d) { equal = false }
        }
        return equal
    }

    public static func < (lhs: DomainName, rhs: DomainName) -> Bool { lhs.text < rhs.text }

    // Identity is the normalised name; how the user spelled it does not matter.
    public static func == (lhs: DomainName, rhs: DomainName) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

/// Why a user's domain name was rejected, phrased for the user.
public struct NameError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Problem: Hashable, Sendable {
        case empty
        case emptyLabel
        case labelTooLong(String, Int)
        case tooLong(Int)
        case badCharacter(Unicode.Scalar, String)
        case hyphenAtEdge(String)
        case idna(String)
    }
    public let input: String
    public let problem: Problem

    public var description: String {
        let shown = TerminalText.escape(input)
        switch problem {
        case .empty: return "empty domain name"
        case .emptyLabel: return "'\(shown)' has an empty label (two dots in a row, or a leading dot)"
        case .labelTooLong(let label, let n): return "'\(shown)': label '\(TerminalText.escape(label))' is \(n) octets long; the limit is 63"
        case .tooLong(let n): return "'\(shown)' is \(n) octets in wire form; the limit is 255"
        case .badCharacter(let c, let label):
            return "'\(shown)': label '\(TerminalText.escape(label))' contains \(TerminalText.describe(c)); use letters, digits, hyphens and underscores"
        case .hyphenAtEdge(let label): return "'\(shown)': label '\(TerminalText.escape(label))' starts or ends with a hyphen"
        case .idna(let reason): return "'\(shown)' is not a valid internationalised name: \(reason)"
        }
    }
}

