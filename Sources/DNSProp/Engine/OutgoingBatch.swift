#if canImport(Glibc)
import Glibc
#endif
import CDNSPropShims
import Synchronization

/// When the datagrams of one batch went: written by the sending queue just before its
/// first `sendmmsg`, read by the engine for the round trip of each answer. Its own small
/// object, so that an attempt can keep it without keeping the batch's buffers.
final class SendStamp: Sendable {
    private let nanoseconds = Atomic<UInt64>(0)

    /// Monotonic ns, or nil before the batch was sent.
    var sentAt: UInt64? {
        let t = nanoseconds.load(ordering: .acquiring)
        return t == 0 ? nil : t
    }

    func mark() {
        nanoseconds.store(MonotonicClock.now(), ordering: .releasing)
    }
}

/// Up to 64 query datagrams for one socket, assembled on the engine's queue and sent
/// with one `sendmmsg(2)` on the engine's sending queue.
///
/// Sending is most of what a query costs on the engine's thread: on a fast path the
/// kernel delivers each datagram (routing, the receiver's socket, waking it) inside
/// the call. Handing whole batches to a second queue lets that work run beside the
/// engine's reading and bookkeeping, on another core when there is one.
///
/// Ownership passes with the batch: the engine writes it, then hands it to the sending
/// queue and does not touch it again until the sending queue hands it back (each hop a
/// Dispatch `async`, which orders the memory). `@unchecked Sendable` for that hand-over.
final class OutgoingBatch: @unchecked Sendable {
    static let capacity = 64

    let socket: UDPSocket
    let stamp = SendStamp()
    /// The attempt each datagram carries (read on the engine's queue only).
    private(set) var attempts: [(query: InFlightQuery, id: UInt16)] = []

    private var bytes: UnsafeMutableRawPointer
    private var byteCapacity: Int
    private var used = 0
    private let offsets: UnsafeMutablePointer<UInt32>
    private let lengths: UnsafeMutablePointer<UInt32>
    private let destinations: UnsafeMutablePointer<sockaddr_storage>
    private let destinationLengths: UnsafeMutablePointer<UInt32>

    /// Set by `transmit`: how many datagrams went (from the first), the errno of the one
    /// that did not (0 when all went), and how many sends were repeated after an error
    /// that may have been another datagram's.
    private(set) var sent = 0
    private(set) var error: Int32 = 0
    private(set) var repeatedAfterPendingError = 0

    init(socket: UDPSocket) {
        self.socket = socket
        attempts.reserveCapacity(Self.capacity)
        byteCapacity = Self.capacity * 64
        bytes = .allocate(byteCount: byteCapacity, alignment: 16)
        offsets = .allocate(capacity: Self.capacity)
        lengths = .allocate(capacity: Self.capacity)
        destinations = .allocate(capacity: Self.capacity)
        destinationLengths = .allocate(capacity: Self.capacity)
    }

    deinit {
        bytes.deallocate()
        offsets.deallocate()
        lengths.deallocate()
        destinations.deallocate()
        destinationLengths.deallocate()
    }

    var count: Int { attempts.count }
    var isFull: Bool { attempts.count == Self.capacity }

    /// Adds `template` with `id` in its first two bytes, for `server`. Engine's queue only.
    func append(_ query: InFlightQuery, id: UInt16, template: [UInt8], to server: ServerAddress) {
        precondition(!isFull, "OutgoingBatch holds at most \(Self.capacity) datagrams")
        let length = template.count
        if used + length > byteCapacity {
            let grown = max(byteCapacity * 2, used + length)
            let new = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
            new.copyMemory(from: bytes, byteCount: used)
            bytes.deallocate()
            bytes = new
            byteCapacity = grown
        }
        let i = attempts.count
        template.withUnsafeBytes { bytes.advanced(by: used).copyMemory(from: $0.baseAddress!, byteCount: length) }
        if length >= 2 {
            bytes.storeBytes(of: UInt8(id >> 8), toByteOffset: used, as: UInt8.self)
            bytes.storeBytes(of: UInt8(id & 0xFF), toByteOffset: used + 1, as: UInt8.self)
        }
        offsets[i] = UInt32(used)
        lengths[i] = UInt32(length)
        destinationLengths[i] = server.withSockAddr { address, size in
            UnsafeMutableRawPointer(destinations + i).copyMemory(from: address, byteCount: Int(size))
            return UInt32(size)
        }
        used += length
        attempts.append((query, id))
    }

    /// Sends every datagram it can (the sending queue's part).
    func transmit() {
        stamp.mark()
        var failure: Int32 = 0
        var repeated: UInt32 = 0
        let n = CDNSPropShims_send_many(socket.fd, bytes, offsets, lengths, destinations, destinationLengths,
                                        UInt32(attempts.count), &failure, &repeated)
        sent = Int(n)
        error = failure
        repeatedAfterPendingError = Int(repeated)
    }
}
