import Dispatch

extension Array where Element: Sendable {
    /// `transform` of every element, in order. Above `chunk` elements the elements are
    /// taken in contiguous chunks by `DispatchQueue.concurrentPerform`, on as many threads as
    /// the machine has cores: a check judges and serialises thousands of answers once they
    /// are all in, when the network no longer needs the other core.
    ///
    /// The caller's thread waits (a few milliseconds for a check's answers).
    func parallelMap<R: Sendable>(chunk: Int = 1024, _ transform: @Sendable (Element) -> R) -> [R] {
        let n = count
        guard n > chunk, chunk > 0 else { return map(transform) }
        let chunks = (n + chunk - 1) / chunk
        return withUnsafeBufferPointer { items in
            [R](unsafeUninitializedCapacity: n) { buffer, initialized in
                // Each chunk initialises its own slots of the result, and nothing else.
                let slots = ChunkSlots(items: items, results: buffer.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let from = c * chunk
                    let to = Swift.min(n, from + chunk)
                    for i in from..<to { (slots.results + i).initialize(to: transform(slots.items[i])) }
                }
                initialized = n
            }
        }
    }
}

/// The input and the result storage of `parallelMap`, shared by its chunks: they read the
/// (immutable) input and write disjoint ranges of the result.
private struct ChunkSlots<Element, R>: @unchecked Sendable {
    let items: UnsafeBufferPointer<Element>
    let results: UnsafeMutablePointer<R>
}
