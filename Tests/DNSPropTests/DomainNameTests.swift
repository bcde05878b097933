import Testing
@testable import DNSProp

@Suite("User domain names")
struct DomainNameTests {
    @Test func normalisesCaseAndFinalDot() throws {
        #expect(try DomainName("Example.COM").text == "example.com.")
        #expect(try DomainName("example.com.").text == "example.com.")
        #expect(try DomainName("  _dmarc.example.com ").text == "_dmarc.example.com.")
        #expect(try DomainName(".").isRoot)
    }

    @Test func internationalisedNamesBecomeALabels() throws {
        #expect(try DomainName("bücher.example").text == "xn--bcher-kva.example.")
        #expect(try DomainName("BÜCHER.example").text == "xn--bcher-kva.example.")
        #expect(try DomainName("münchen.de").text == "xn--mnchen-3ya.de.")
        // IDNA2008 non-transitional: ß stays ß (xn--fa-hia), not "ss".
        #expect(try DomainName("faß.de").text == "xn--fa-hia.de.")
        #expect(try DomainName("例え.jp").text == "xn--r8jz45g.jp.")
    }

    @Test func rejectsBadNamesWithSpecificMessages() {
        func problem(_ s: String) -> NameError.Problem? {
            do { _ = try DomainName(s); return nil } catch { return error.problem }
        }
        #expect(problem("") == .empty)
        #expect(problem("   ") == .empty)
        #expect(problem("a..b") == .emptyLabel)
        #expect(problem(".example.com") == .emptyLabel)
        #expect(problem(String(repeating: "a", count: 64) + ".com") == .labelTooLong(String(repeating: "a", count: 64), 64))
        let long = Array(repeating: String(repeating: "a", count: 60), count: 5).joined(separator: ".")
        #expect(problem(long) == .tooLong(306))  // 5 × (1 + 60) + 1
        #expect(problem("exa mple.com") == .badCharacter(" ", "exa mple"))
        #expect(problem("exa\u{1B}[31mple.com") == .badCharacter("\u{1B}", "exa\u{1B}[31mple"))
        #expect(problem("-bad.com") == .hyphenAtEdge("-bad"))
        if case .idna = problem("a\u{200D}b.com") {} else { Issue.record("ZWJ must be refused by IDNA") }
    }

    @Test func errorMessagesNeverCarryRawControlCharacters() {
        do {
            _ = try DomainName("evil\u{1B}]0;pwned\u{07}.com")
            Issue.record("accepted a name with control characters")
        } catch {
            let text = error.description
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 })
            #expect(text.contains("\\x1B"))
        }
    }

    @Test func hierarchy() throws {
        let www = try DomainName("www.example.com")
        #expect(www.parent.text == "example.com.")
        #expect(www.parent.parent.parent.isRoot)
        #expect(www.isSubdomain(of: try DomainName("example.com")))
        #expect(!www.isSubdomain(of: try DomainName("ample.com")))
        #expect(www.labels == ["www", "example", "com"])
    }

    @Test func wireLimitIsExactly255() throws {
        // 3 labels of 63 + one of 61 = 4*1 + 250 + 1 root = 255 octets.
        let ok = [63, 63, 63, 61].map { String(repeating: "a", count: $0) }.joined(separator: ".")
        #expect(throws: Never.self) { try DomainName(ok) }
        let over = [63, 63, 63, 62].map { String(repeating: "a", count: $0) }.joined(separator: ".")
        #expect(throws: NameError.self) { try DomainName(over) }
    }
}

@Suite("Terminal text")
struct TerminalTextTests {
    @Test func escapesControlsAndBidi() {
        #expect(TerminalText.escape("a\u{1B}[2Jb") == "a\\x1B[2Jb")
        #expect(TerminalText.escape("x\u{07}\u{7F}\u{9B}") == "x\\x07\\x7F\\x9B")
        #expect(TerminalText.escape("abc\u{202E}def") == "abc\\u{202E}def")
        #expect(TerminalText.escape("Telefónica 例え") == "Telefónica 例え")
    }

    @Test func jsonStringsEscapeEveryControl() {
        let v = JSONValue.string("q\"\\\u{1B}\u{0}\n\u{85}é")
        #expect(v.serialized() == #""q\"\\\u001b\u0000\n\u0085é""#)
    }
}
