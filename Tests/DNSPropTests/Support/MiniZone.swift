@testable import DNSProp

/// A zone an in-process responder serves authoritatively, with delegations to
/// child zones (answered as referrals with glue), as nsd would.
struct MiniZone: Sendable {
    var apex: String
    var records: [ResourceRecord]
    /// child zone -> (NS names, glue records)
    var delegations: [String: ([String], [ResourceRecord])] = [:]
    var soa: ResourceRecord {
        let suffix = apex == "." ? "" : apex     // the root's own SOA names "ns." and "hostmaster."
        return ResourceRecord(owner: apex, type: .soa, ttl: 60, rdataFields: ["ns." + suffix, "hostmaster." + suffix, "1", "60", "60", "600", "30"])
    }

    init(apex: String, records: [ResourceRecord], delegations: [String: ([String], [ResourceRecord])] = [:]) {
        self.apex = apex
        self.records = records
        self.delegations = delegations
    }

    static func rr(_ owner: String, _ type: RecordType, _ data: String..., ttl: UInt32 = 60) -> ResourceRecord {
        ResourceRecord(owner: owner, type: type, ttl: ttl, rdataFields: data)
    }

    func answer(_ query: Message) -> [UInt8] {
        let q = query.questions[0]
        let qname = q.name.lowercased()
        func below(_ name: String, _ zone: String) -> Bool { zone == "." || name == zone || name.hasSuffix("." + zone) }
        for (child, (ns, glue)) in delegations where below(qname, child) {
            let authority = ns.map { MiniZone.rr(child, .ns, $0, ttl: 120) }
            let m = Message(header: Header(id: query.header.id, opcode: 0, rcode: .noError, flags: [.qr]),
                            questions: [q], answers: [], authority: authority, additional: glue, edns: nil)
            return try! MessageEncoder.encode(m)
        }
        let here = records.filter { $0.owner.lowercased() == qname }
        var answers = here.filter { $0.type == q.type }
        if q.type == .soa && qname == apex { answers = [soa] }
        if answers.isEmpty, let cname = here.first(where: { $0.type == .cname }) { answers = [cname] }
        let exists = !here.isEmpty || qname == apex || records.contains { $0.owner.lowercased().hasSuffix("." + qname) }
        let rcode: ResponseCode = answers.isEmpty && !exists ? .nxDomain : .noError
        let m = Message(header: Header(id: query.header.id, opcode: 0, rcode: rcode, flags: [.qr, .aa]),
                        questions: [q], answers: answers, authority: answers.isEmpty ? [soa] : [], additional: [], edns: nil)
        return try! MessageEncoder.encode(m)
    }
}
