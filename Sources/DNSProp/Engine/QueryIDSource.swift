#if canImport(Glibc)
import Glibc
#endif
import CDNSPropShims

/// Unpredictable 16-bit query IDs from the kernel's CSPRNG (getrandom(2)),
/// fetched in blocks so that one system call serves two thousand queries.
struct QueryIDSource {
    private var pool = [UInt8](repeating: 0, count: 4096)
    private var next = 4096

    mutating func nextID() -> UInt16 {
        if next + 2 > pool.count { refill() }
        defer { next += 2 }
        return UInt16(pool[next]) << 8 | UInt16(pool[next + 1])
    }

    private mutating func refill() {
        var filled = 0
        while filled < pool.count {
            let n = pool.withUnsafeMutableBytes { CDNSPropShims_getrandom($0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                // getrandom cannot fail on Linux ≥ 3.17 once the pool is initialised;
                // refusing to run beats sending predictable IDs.
                fatalError("getrandom failed: errno \(errno)")
            }
            filled += n
        }
        next = 0
    }
}
