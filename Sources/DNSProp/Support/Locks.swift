#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex, to avoid importing Foundation for NSLock.
/// `@unchecked Sendable`: the mutex is the synchronisation. It lives in its own heap
/// allocation with a stable address (a `pthread_mutex_t` stored inline in a class may
/// not be passed by address: Swift does not promise `&property` is the same storage).
final class NSLockLike: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// State behind a pthread mutex. (Not `Synchronization.Mutex`: on Linux it locks with
/// a bare futex, which ThreadSanitizer cannot see, so every access looks like a race.)
final class Protected<State>: @unchecked Sendable {   // `state` is touched only inside `lock.withLock`
    private var state: State
    private let lock = NSLockLike()

    init(_ initial: State) { state = initial }

    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        try lock.withLock { try body(&state) }
    }
}
