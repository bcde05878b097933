#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import DNSProp

/// Every input the fuzzer ever found (Tests/FuzzRegressions) and the fuzz seeds,
/// decoded again on every run, so that a fixed crash or leak stays fixed
/// (Scripts/leak-check runs this under LeakSanitizer).
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static var directory: String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/")
    }

    static func files(_ folder: String) -> [String] {
        let path = directory + "/" + folder
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { out.append(path + "/" + name) }
        }
        return out.sorted()
    }

    @Test func everyRegressionAndSeedDecodesWithoutCrashing() throws {
        let inputs = Self.files("FuzzRegressions") + Self.files("FuzzSeeds")
        #expect(inputs.count >= 10)
        var decoded = 0
        for path in inputs {
            let bytes = try FileText.readBytes(path)
            if (try? MessageDecoder.decode(bytes)) != nil { decoded += 1 }
        }
        #expect(decoded >= 5)    // the well-formed seeds decode
    }

    @Test func certRecordThatMadeLDNSLeakIsKeptOpaque() throws {
        // Found by Scripts/fuzz: ldns leaked parsing this CERT record's RDATA.
        let bytes = try FileText.readBytes(Self.directory + "/FuzzRegressions/leak-18d369f0b7705a57fec806a0c7f75d1a66502836")
        let m = try MessageDecoder.decode(bytes)
        let rr = try #require(m.additional.first)
        #expect(rr.type.name == "TYPE37" || rr.type.rawValue == 37)
        #expect(rr.rdata == "\\# 8 0000000000000000")
    }

    @Test func opaqueTypesKeepTheirNumberAndOrder() throws {
        let message = Message(
            header: Header(id: 7, opcode: 0, rcode: .noError, flags: [.qr]),
            questions: [Question(name: "example.com.", type: .any)],
            answers: [ResourceRecord(owner: "example.com.", type: .a, ttl: 1, rdataFields: ["192.0.2.1"]),
                      ResourceRecord(owner: "example.com.", type: RecordType(rawValue: 99), ttl: 1, rdataFields: ["\"v=spf1 -all\""]),
                      ResourceRecord(owner: "example.com.", type: .mx, ttl: 1, rdataFields: ["10", "mx.example.com."]),
                      ResourceRecord(owner: "example.com.", type: RecordType(rawValue: 13), ttl: 1, rdataFields: ["\"cpu\"", "\"os\""])],
            authority: [], additional: [], edns: nil)
        let decoded = try MessageDecoder.decode(MessageEncoder.encode(message))
        #expect(decoded.answers.map(\.type.rawValue) == [1, 99, 15, 13])
        #expect(decoded.answers[1].rdata.hasPrefix("\\# 12 "))
        #expect(decoded.answers[2].rdata == "10 mx.example.com.")
    }
}
