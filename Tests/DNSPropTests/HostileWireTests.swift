import Testing
@testable import DNSProp

/// Hand-made hostile packets: each must come back as a typed error, never a crash.
@Suite("Hostile wire input")
struct HostileWireTests {
    /// A 12-byte header with the given counts.
    static func header(id: UInt16 = 1, flags: UInt16 = 0x8180, qd: UInt16 = 0, an: UInt16 = 0,
                       ns: UInt16 = 0, ar: UInt16 = 0) -> [UInt8] {
        [id, flags, qd, an, ns, ar].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    static let exampleQuestion: [UInt8] = [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 1, 0, 1]

    @Test func zeroLength() {
        #expect(throws: WireError.empty) { try MessageDecoder.decode([]) }
    }

    @Test func shorterThanHeader() {
        #expect(throws: WireError.shortHeader(length: 11)) { try MessageDecoder.decode(Array(repeating: 0, count: 11)) }
    }

    @Test func headerOnlyWithNoCountsIsAValidEmptyMessage() throws {
        let m = try MessageDecoder.decode(Self.header())
        #expect(m.questions.isEmpty && m.answers.isEmpty)
    }

    @Test func headerOnlyClaimingAQuestion() {
        #expect(throws: WireError.truncatedName(offset: 12)) { try MessageDecoder.decode(Self.header(qd: 1)) }
    }

    @Test func countsLargerThanTheData() {
        let packet = Self.header(qd: 1, an: 5) + Self.exampleQuestion
        #expect(throws: WireError.truncatedName(offset: packet.count)) { try MessageDecoder.decode(packet) }
        let many = Self.header(qd: 0xFFFF, an: 0xFFFF, ns: 0xFFFF, ar: 0xFFFF) + Self.exampleQuestion
        #expect(throws: (any Error).self) { try MessageDecoder.decode(many) }
    }

    @Test func rdataLongerThanTheMessage() {
        // answer: pointer to the question name, type A, class IN, TTL, rdlength 200, 4 bytes of data
        let answer: [UInt8] = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 200, 192, 0, 2, 1]
        let packet = Self.header(qd: 1, an: 1) + Self.exampleQuestion + answer
        #expect(throws: WireError.rdataOverrun(section: "answer", index: 0, offset: 29, rdlength: 200)) {
            try MessageDecoder.decode(packet)
        }
    }

    @Test func compressionPointerToItself() {
        let packet = Self.header(qd: 1) + [0xC0, 12, 0, 1, 0, 1]
        #expect(throws: WireError.pointerNotBackward(offset: 12, target: 12)) { try MessageDecoder.decode(packet) }
    }

    @Test func compressionPointerLoopBetweenTwoNames() {
        // question name at 12: label "a" then pointer to 17; at 17: label "b" then pointer back to 12.
        var packet = Self.header(qd: 1)
        packet += [1, 0x61, 0xC0, 17, 0]          // 12..16 (the 0 is never reached)
        packet += [1, 0x62, 0xC0, 12]             // 17..20
        packet += [0, 1, 0, 1]
        #expect(throws: WireError.pointerNotBackward(offset: 14, target: 17)) { try MessageDecoder.decode(packet) }
    }

    @Test func compressionPointerLoopInsideRdata() {
        // An NS record whose target points forward into itself.
        let answer: [UInt8] = [0xC0, 12, 0, 2, 0, 1, 0, 0, 0, 60, 0, 2, 0xC0, 41]
        let packet = Self.header(qd: 1, an: 1) + Self.exampleQuestion + answer
        #expect(throws: WireError.pointerNotBackward(offset: 41, target: 41)) { try MessageDecoder.decode(packet) }
    }

    @Test func pointerOutsideTheMessage() {
        let packet = Self.header(qd: 1) + [0xFF, 0xFF, 0, 1, 0, 1]
        #expect(throws: WireError.pointerOutOfRange(offset: 12, target: 0x3FFF)) { try MessageDecoder.decode(packet) }
    }

    @Test func nameLongerThan255Octets() {
        // Five labels of 63 octets: 5 * 64 + 1 = 321 octets.
        var name: [UInt8] = []
        for _ in 0..<5 { name += [63] + Array(repeating: 0x61, count: 63) }
        let packet = Self.header(qd: 1) + name + [0, 0, 1, 0, 1]
        #expect(throws: WireError.nameTooLong(offset: 12)) { try MessageDecoder.decode(packet) }
    }

    @Test func nameLongerThan255OctetsThroughPointers() {
        // 4 x 63-octet labels ending in a pointer to another 63-octet label: only the sum is too long.
        var packet = Self.header(qd: 2)
        packet += [63] + Array(repeating: 0x62, count: 63) + [0, 0, 1, 0, 1]        // q1 at 12
        var name: [UInt8] = []
        for _ in 0..<4 { name += [63] + Array(repeating: 0x61, count: 63) }
        packet += name + [0xC0, 12, 0, 1, 0, 1]
        #expect(throws: WireError.nameTooLong(offset: 81)) { try MessageDecoder.decode(packet) }
    }

    @Test func labelLongerThan63Octets() {
        let packet = Self.header(qd: 1) + [64] + Array(repeating: 0x61, count: 64) + [0, 0, 1, 0, 1]
        #expect(throws: WireError.badLabelType(offset: 12, byte: 64)) { try MessageDecoder.decode(packet) }
    }

    @Test func twoTSIGRecordsAreRefusedBeforeLDNSCanLeakOne() {
        // ldns #317: wire2pkt leaks the first of several TSIG records.
        let tsigRdata: [UInt8] = [0] + [0, 0, 0, 0, 0, 0] + [0, 0] + [0, 0] + [0, 0] + [0, 0] + [0, 0]
        let tsig: [UInt8] = [0, 0, 250, 0, 255, 0, 0, 0, 0, 0, UInt8(tsigRdata.count)] + tsigRdata
        let packet = Self.header(qd: 1, ar: 2) + Self.exampleQuestion + tsig + tsig
        #expect(throws: WireError.multipleTSIG) { try MessageDecoder.decode(packet) }
    }

    @Test func twoOPTRecords() {
        let opt: [UInt8] = [0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0]
        let packet = Self.header(qd: 1, ar: 2) + Self.exampleQuestion + opt + opt
        #expect(throws: WireError.multipleOPT) { try MessageDecoder.decode(packet) }
    }

    @Test func wksIsPrintedGenericallyNotByLDNS() throws {
        // ldns #201: use-after-free in its WKS printer.
        let rdata: [UInt8] = [192, 0, 2, 1, 6, 0xFF, 0xFF]
        let answer: [UInt8] = [0xC0, 12, 0, 11, 0, 1, 0, 0, 0, 60, 0, UInt8(rdata.count)] + rdata
        let packet = Self.header(qd: 1, an: 1) + Self.exampleQuestion + answer
        let m = try MessageDecoder.decode(packet)
        #expect(m.answers.first?.type == .wks)
        #expect(m.answers.first?.rdata.hasPrefix("\\# 7 C0000201") == true)
    }

    /// What the decoder says about bytes it accepted must be what the bytes say:
    /// the header's ID and every section's count (an OPT record counts in the
    /// additional section but is decoded as `edns`).
    static func expectAgreesWithHeader(_ m: Message, _ packet: [UInt8], _ context: String) {
        func count(_ at: Int) -> Int { Int(packet[at]) << 8 | Int(packet[at + 1]) }
        #expect(Int(m.header.id) == count(0), "\(context): id")
        #expect(m.questions.count == count(4), "\(context): questions")
        #expect(m.answers.count == count(6), "\(context): answers")
        #expect(m.authority.count == count(8), "\(context): authority")
        #expect(m.additional.count + (m.edns == nil ? 0 : 1) == count(10), "\(context): additional \(m.additional) \(String(describing: m.edns)) \(packet.map { String($0, radix: 16) })")
    }

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(seed: 0x5EED)
        var decoded = 0, rejected = 0
        for i in 0..<20_000 {
            let length = Int(rng.next() % 600)
            var packet = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if packet.count >= 12 && rng.next() % 2 == 0 {
                // Plausible counts make the walker go deeper.
                packet[4] = 0; packet[5] = UInt8(rng.next() % 3)
                packet[6] = 0; packet[7] = UInt8(rng.next() % 4)
                packet[8] = 0; packet[9] = UInt8(rng.next() % 2)
                packet[10] = 0; packet[11] = UInt8(rng.next() % 2)
            }
            do {
                let m = try MessageDecoder.decode(packet)
                Self.expectAgreesWithHeader(m, packet, "random packet \(i)")
                decoded += 1
            } catch {
                // A rejection says what is wrong, in printable text.
                #expect(!error.description.isEmpty && TerminalText.escape(error.description) == error.description, "\(error)")
                rejected += 1
            }
        }
        // Both paths were exercised: some random packets are well-formed, most are not.
        #expect(decoded > 0, "no random packet decoded: the generator does not reach the decoder")
        #expect(rejected > decoded)
    }

    @Test func mutatedRealAnswersNeverCrash() throws {
        let message = Message(
            header: Header(id: 9, opcode: 0, rcode: .noError, flags: [.qr, .rd, .ra]),
            questions: [Question(name: "www.example.com.", type: .cname)],
            answers: [ResourceRecord(owner: "www.example.com.", type: .cname, ttl: 60, rdataFields: ["web.example.net."]),
                      ResourceRecord(owner: "web.example.net.", type: .a, ttl: 60, rdataFields: ["192.0.2.7"])],
            authority: [ResourceRecord(owner: "example.com.", type: .soa, ttl: 60,
                                       rdataFields: ["ns1.example.com.", "hostmaster.example.com.", "1", "2", "3", "4", "5"])],
            additional: [], edns: EDNS(udpPayloadSize: 1232, version: 0, dnssecOK: true, extendedRcode: 0, options: []))
        let wire = try MessageEncoder.encode(message)
        // The unmutated answer decodes to what was encoded.
        let original = try MessageDecoder.decode(wire)
        #expect(original.answers.map(\.rdata) == ["web.example.net.", "192.0.2.7"])
        Self.expectAgreesWithHeader(original, wire, "original")
        var rng = SplitMix64(seed: 42)
        var decoded = 0, rejected = 0
        for i in 0..<20_000 {
            var packet = wire
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                packet[Int(rng.next() % UInt64(packet.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            if rng.next() % 8 == 0 { packet.removeLast(Int(rng.next() % UInt64(packet.count))) }
            do {
                let m = try MessageDecoder.decode(packet)
                Self.expectAgreesWithHeader(m, packet, "mutation \(i)")
                decoded += 1
            } catch {
                #expect(!error.description.isEmpty)
                rejected += 1
            }
        }
        // A few flipped bytes leave many answers decodable (a changed TTL or address) and break many others.
        #expect(decoded > 1000 && rejected > 1000, "decoded \(decoded), rejected \(rejected)")
    }
}

/// A small deterministic generator so that failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
