#if canImport(Glibc)
import Glibc
#endif
@testable import DNSProp

/// Waits for something that happens on its own after a result is in: a packet still
/// on its way, a responder's queue that has not run yet, a process being reaped. The
/// bound is only where a test gives up; it is far above what any run needs (a loaded
/// sanitizer run included), and the exact assertion comes after the wait. Returns
/// whether `condition` held.
@discardableResult
func eventually(within seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
    let end = MonotonicClock.now() + MonotonicClock.nanoseconds(seconds)
    while !condition() {
        if MonotonicClock.now() >= end { return false }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return true
}

/// The same for synchronous tests (polls with `usleep`).
@discardableResult
func eventuallyBlocking(within seconds: Double = 30, _ condition: () -> Bool) -> Bool {
    let end = MonotonicClock.now() + MonotonicClock.nanoseconds(seconds)
    while !condition() {
        if MonotonicClock.now() >= end { return false }
        usleep(10_000)
    }
    return true
}
