import Dispatch

/// Runs blocking work (a child process, a command the product runs and waits for) on a
/// Dispatch thread and awaits it there. Swift Testing runs every test, synchronous ones
/// included, on the cooperative pool, which has as many threads as cores (two on CI): a
/// test that blocks one of them for seconds holds up every other test's continuations
/// meanwhile (CI once took 11.6 s for a 0.2-s wait). Dispatch adds threads for blocked work.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
