import Testing
@testable import DNSProp

@Suite("Verdict matching without sets")
struct ExpectedValueMatchTests {
    /// `VerdictClassifier.finalValuesEqual` decides as `AnswerChain.finalValues(…) == Set(expected)` did.
    @Test func sameDecisionAsTheSets() {
        let values: [RecordType: [String]] = [
            .a: ["192.0.2.1", "192.0.2.2", " 192.0.2.1", "010.0.0.1", "10.0.0.1", "not an address"],
            .aaaa: ["2001:db8::1", "2001:DB8::1", "2001:0db8:0:0:0:0:0:1", "::ffff:192.0.2.1", "2001:db8::2"],
            .mx: ["10 mx.bench.test.", "10 MX.Bench.Test.", "10 mx.bench.test", "20 mx2.bench.test.", " 10 mx.bench.test."],
            .txt: ["\"v=spf1 -all\"", "v=spf1 -all", "\"\"v=spf1 -all\"\"", "\"other\"", "\"\""],
            .cname: ["www.example.", "WWW.example", "other.example."],
        ]
        var state: UInt64 = 0x1234_5678_9ABC_DEF1
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        for (type, pool) in values {
            for _ in 0..<3000 {
                let expected = (0..<Int(next() % 4)).map { _ in AnswerChain.normalise(pool[Int(next() % UInt64(pool.count))], type: type) }
                var chain: [ResourceRecord] = []
                for _ in 0..<Int(next() % 4) {
                    let fieldsText = pool[Int(next() % UInt64(pool.count))]
                    let recordType = next() % 5 == 0 ? RecordType.cname : type
                    chain.append(ResourceRecord(owner: "bench.test.", type: recordType, ttl: 300,
                                                rdataFields: fieldsText.split(separator: " ").map(String.init)))
                }
                let reference = AnswerChain.finalValues(chain, type: type) == Set(expected)
                #expect(VerdictClassifier.finalValuesEqual(chain, type: type, expected: expected) == reference, "\(type) \(chain) \(expected)")
            }
        }
    }
}
