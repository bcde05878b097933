import Testing
@testable import DNSProp

@Suite("Wire format")
struct WireFormatTests {
    @Test func recordTypesByNameAndNumber() {
        for name in ["A", "AAAA", "CNAME", "DNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "CAA", "DS",
                     "DNSKEY", "RRSIG", "NSEC", "NSEC3", "HTTPS", "SVCB"] {
            let type = RecordType(name: name)
            #expect(type != nil, "\(name)")
            #expect(type?.name == name)
            #expect(RecordType(name: name.lowercased()) == type)
        }
        #expect(RecordType(name: "HTTPS")?.rawValue == 65)
        #expect(RecordType(rawValue: 65280).name == "TYPE65280")
        #expect(RecordType(name: "TYPE65280")?.rawValue == 65280)
        #expect(RecordType(name: "type1") == .a)
        #expect(RecordType(name: "TYPE70000") == nil)
        #expect(RecordType(name: "TYPE+1") == nil)
        #expect(RecordType(name: "BOGUS") == nil)
    }

    @Test func responseCodes() {
        #expect(ResponseCode(rawValue: 3) == .nxDomain)
        #expect(ResponseCode(rawValue: 3).name == "NXDOMAIN")
        #expect(ResponseCode(rawValue: 16) == .badVers)
        #expect(ResponseCode(rawValue: 12) == .unknown(12))
        #expect(ResponseCode(rawValue: 12).name == "RCODE12")
        #expect(ResponseCode(name: "servfail") == .servFail)
        #expect(ResponseCode(name: "RCODE12") == .unknown(12))
        for v: UInt16 in 0...30 { #expect(ResponseCode(rawValue: v).rawValue == v) }
    }

    @Test func queryHasRequestedFlagsAndEDNS() throws {
        let name = try DomainName("Example.COM")
        let template = try QueryTemplate(name: name, type: .aaaa,
                                         options: QueryOptions(recursionDesired: false, checkingDisabled: true,
                                                               dnssecOK: true, ednsUDPSize: 1232))
        let wire = template.wire(id: 0xBEEF)
        #expect(wire[0] == 0xBE && wire[1] == 0xEF)
        let decoded = try MessageDecoder.decode(wire)
        #expect(decoded.header.id == 0xBEEF)
        #expect(!decoded.header.flags.contains(.qr))
        #expect(!decoded.header.flags.contains(.rd))
        #expect(decoded.header.flags.contains(.cd))
        #expect(decoded.questions == [Question(name: "example.com.", type: .aaaa)])
        #expect(decoded.edns == EDNS(udpPayloadSize: 1232, version: 0, dnssecOK: true, extendedRcode: 0, options: []))

        let plain = try QueryTemplate(name: name, type: .a, options: QueryOptions(ednsUDPSize: nil))
        let plainDecoded = try MessageDecoder.decode(plain.wire(id: 7))
        #expect(plainDecoded.edns == nil)
        #expect(plainDecoded.header.flags.contains(.rd))
        #expect(plain.wire.count == 12 + 13 + 4)
    }

    @Test func responseRoundTripThroughLDNS() throws {
        let message = Message(
            header: Header(id: 4242, opcode: 0, rcode: .noError, flags: [.qr, .rd, .ra, .aa]),
            questions: [Question(name: "example.com.", type: .mx)],
            answers: [
                ResourceRecord(owner: "example.com.", type: .mx, ttl: 300, rdataFields: ["10", "mail.example.com."]),
                ResourceRecord(owner: "example.com.", type: .mx, ttl: 300, rdataFields: ["20", "mx2.example.net."]),
            ],
            authority: [ResourceRecord(owner: "example.com.", type: .ns, ttl: 172800, rdataFields: ["ns1.example.com."])],
            additional: [
                ResourceRecord(owner: "mail.example.com.", type: .a, ttl: 60, rdataFields: ["192.0.2.25"]),
                ResourceRecord(owner: "mail.example.com.", type: .aaaa, ttl: 60, rdataFields: ["2001:db8::25"]),
                ResourceRecord(owner: "example.com.", type: .txt, ttl: 60, rdataFields: ["\"v=spf1 -all\""]),
            ],
            edns: EDNS(udpPayloadSize: 1232, version: 0, dnssecOK: false, extendedRcode: 0, options: []))
        let wire = try MessageEncoder.encode(message)
        let decoded = try MessageDecoder.decode(wire)
        #expect(decoded == message)
        #expect(decoded.answers[0].rdata == "10 mail.example.com.")
    }

    @Test func extendedRcodeCombinesHeaderAndEDNS() throws {
        var message = Message(header: Header(id: 1, opcode: 0, rcode: .badVers, flags: [.qr]),
                              questions: [Question(name: "example.", type: .a)], answers: [], authority: [],
                              additional: [], edns: EDNS(udpPayloadSize: 1232, version: 0, dnssecOK: false, extendedRcode: 1, options: []))
        let decoded = try MessageDecoder.decode(MessageEncoder.encode(message))
        #expect(decoded.rcode == .badVers)
        message.edns = nil
        message.header.rcode = .nxDomain
        #expect(try MessageDecoder.decode(MessageEncoder.encode(message)).rcode == .nxDomain)
    }

    @Test func rdataNamesCompareWithoutCase() {
        let a = ResourceRecord(owner: "x.", type: .ns, ttl: 1, rdataFields: ["NS1.Example.COM."])
        let b = ResourceRecord(owner: "x.", type: .ns, ttl: 9, rdataFields: ["ns1.example.com."])
        #expect(a.comparableRdata == b.comparableRdata)
        let t1 = ResourceRecord(owner: "x.", type: .txt, ttl: 1, rdataFields: ["\"ABC\""])
        let t2 = ResourceRecord(owner: "x.", type: .txt, ttl: 1, rdataFields: ["\"abc\""])
        #expect(t1.comparableRdata != t2.comparableRdata)
    }
}
