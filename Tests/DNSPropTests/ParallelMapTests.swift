import Testing
@testable import DNSProp

/// `parallelMap` gives `map`'s result, in order, whatever the chunk size and count.
@Suite("Parallel map")
struct ParallelMapTests {
    @Test func theSameAsMapInOrder() {
        for n in [0, 1, 2, 1023, 1024, 1025, 5000] {
            let items = (0..<n).map { "item \($0) " + String(repeating: "x", count: $0 % 40) }
            for chunk in [1, 7, 512, 1024, 10_000] {
                #expect(items.parallelMap(chunk: chunk) { $0.uppercased() + "!" } == items.map { $0.uppercased() + "!" },
                        "n \(n), chunk \(chunk)")
            }
        }
    }
}
