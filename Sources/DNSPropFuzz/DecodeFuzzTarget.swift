import DNSProp

/// One input through everything that handles answers from the network: the
/// structural walk, ldns decoding, rdata to text, answer-chain extraction,
/// verdict classification and every output format's escaping.
func fuzzOne(_ bytes: UnsafeRawBufferPointer) {
    guard let message = try? MessageDecoder.decode(bytes) else { return }
    let name = message.questions.first?.name ?? "example.com."
    let type = message.questions.first?.type ?? .a
    var text = ""
    for rr in message.answers + message.authority + message.additional {
        text += TerminalText.escape(rr.description)
        text += JSONValue.string(rr.rdata).serialized()
        _ = ParkingSignatures.bundled.match(rr)
    }
    let chain = AnswerChain.extract(from: message.answers, name: name, type: type)
    _ = AnswerChain.comparisonKey(chain)
    _ = try? MessageEncoder.encode(message)
    precondition(!text.unicodeScalars.contains { $0.value == 0x1B }, "an escape character survived escaping")
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable's entry point as `<module>_main`; hand control to libFuzzer's driver.
@_cdecl("DNSPropFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector, LLVMFuzzerTestOneInput)
}
#else
#if canImport(Glibc)
import Glibc
#endif

/// Without the fuzzer: replays files (a corpus, or crashes found) through the same code.
@main
struct ReplayCorpus {
    static func main() {
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let text = try? FileText.readBytes(path) else {
                print("dnsprop-fuzz: cannot read \(path)")
                exit(2)
            }
            text.withUnsafeBytes { fuzzOne($0) }
            count += 1
        }
        print("replayed \(count) input\(count == 1 ? "" : "s") without a crash")
    }
}
#endif
