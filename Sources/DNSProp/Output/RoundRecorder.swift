#if canImport(Glibc)
import Glibc
#endif

/// `watch --record FILE`: each round appended as NDJSON in one write and synced,
/// so that a crash loses at most the round in progress.
///
/// The file is opened with O_NOFOLLOW (a symlink planted at the path is refused)
/// and O_APPEND. A failed write or fsync (a full disk, `/dev/full`) ends the
/// recording: the error is returned once, and later rounds are not written.
/// Every write and `close()` hold the same lock, so a signal handler that closes
/// the recorder waits for a write in progress instead of closing its descriptor.
public final class RoundRecorder: Sendable {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var reason: String
        public var description: String { "\(TerminalText.escape(path)): \(reason)" }
    }

    public let path: String
    /// -1 once closed or failed.
    private let fd: Protected<Int32>

    public init(path: String) throws(Failure) {
        self.path = path
        let d = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard d >= 0 else {
            let e = errno
            throw Failure(path: path, reason: e == ELOOP ? "is a symbolic link; give the file itself" : String(cString: strerror(e)))
        }
        var st = stat()
        if fstat(d, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            Glibc.close(d)
            throw Failure(path: path, reason: "is a directory")
        }
        fd = Protected(d)
    }

    /// Appends one round. Returns the failure the first time a write or fsync fails
    /// (the recording stops then); nil otherwise, also when already stopped.
    public func append(_ text: String) -> Failure? {
        fd.withLock { d -> Failure? in
            guard d >= 0 else { return nil }
            var bytes = Array(text.utf8)
            var offset = 0
            var failure: String?
            while offset < bytes.count {
                let n = bytes.withUnsafeMutableBytes { Glibc.write(d, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "write failed: \(String(cString: strerror(errno)))"
                    break
                }
                offset += n
            }
            if failure == nil, fsync(d) != 0, errno != EINVAL && errno != EROFS {
                failure = "fsync failed: \(String(cString: strerror(errno)))"
            }
            guard let failure else { return nil }
            Glibc.close(d)
            d = -1
            return Failure(path: path, reason: failure + "; recording stopped")
        }
    }

    /// Appends one watch round in the NDJSON shape of `check --format ndjson`, with `round` and `timestamp`.
    public func append(_ round: WatchSession.Round) -> Failure? {
        let extra: [(String, JSONValue)] = [("round", .int(round.number)),
                                            ("timestamp", .string(Timestamp.rfc3339(round.report.finishedAt, fraction: true)))]
        return append(CheckReportJSON.ndjsonLines(round.report, outcome: round.outcome, extra: extra).joined(separator: "\n") + "\n")
    }

    public func close() {
        fd.withLock { d in
            if d >= 0 { Glibc.close(d); d = -1 }
        }
    }

    deinit { close() }
}
