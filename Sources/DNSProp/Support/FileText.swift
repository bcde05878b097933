#if canImport(Glibc)
import Glibc
#endif

/// Reads a user's text file with POSIX calls; errors name the file and the reason.
public enum FileText {
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let reason: String
        public var description: String { "\(TerminalText.escape(path)): \(reason)" }
        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    /// Files larger than this are refused: a resolver or signature list is never that big.
    public static let maximumSize = 16 << 20

    /// The file's text; invalid UTF-8 is kept visible as U+FFFD for the parser to report.
    public static func read(_ path: String) throws(ReadError) -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    /// The file's bytes.
    public static func readBytes(_ path: String) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw ReadError(path: path, reason: "is a directory")
        }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            data += chunk[0..<n]
            if data.count > maximumSize {
                throw ReadError(path: path, reason: "larger than \(maximumSize >> 20) MiB")
            }
        }
        return data
    }
}
