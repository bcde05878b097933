#if canImport(Glibc)
import Glibc
#endif

/// Runs `--on-change` / `--on-converged`: the user's command line through
/// `/bin/sh -c`, as git hooks and cron do, so that pipes and redirections work.
/// The event never becomes part of that command line: it arrives as JSON on
/// stdin and as `DNSPROP_*` environment variables whose values dnsprop produced
/// itself (see `WatchNotification.environment()`).
///
/// The command runs with the user's privileges, in its own process group (a
/// timeout ends the whole group: `sh -c 'sleep 100'` leaves no sleeper behind),
/// with SIGINT/SIGTERM/SIGPIPE back at their defaults (watch ignores them itself),
/// stdout to /dev/null (the watch owns the terminal) and the tail of its stderr
/// kept for the failure message (both through socket pairs, made close-on-exec
/// atomically). stdin is one end of a socket pair written with
/// MSG_NOSIGNAL, so that a command that exits without reading its input cannot
/// kill dnsprop with SIGPIPE.
public struct NotificationCommand: Sendable {
    public var commandLine: String
    public var shell = "/bin/sh"

    public init(_ commandLine: String) { self.commandLine = commandLine }

    public enum Outcome: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
        case couldNotStart(String)
    }

    public struct Run: Sendable {
        public var outcome: Outcome
        /// The last bytes the command wrote to stderr (raw: escape before showing).
        public var stderrTail: String
        public var succeeded: Bool { outcome == .exited(0) }
    }

    /// Runs the command once and waits for it (at most `timeout` seconds, then the
    /// group gets SIGTERM and, half a second later, SIGKILL). Blocking: call it off
    /// any queue that must stay responsive.
    public func run(input inputText: String, environment extra: [String: String], timeout: Double) -> Run {
        var toChild: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &toChild) == 0 else {
            return Run(outcome: .couldNotStart("socketpair: \(String(cString: strerror(errno)))"), stderrTail: "")
        }
        var errPipe: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &errPipe) == 0 else {
            close(toChild[0]); close(toChild[1])
            return Run(outcome: .couldNotStart("socketpair: \(String(cString: strerror(errno)))"), stderrTail: "")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[1], 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGWINCH, SIGQUIT, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noMask = sigset_t()
        sigemptyset(&noMask)
        posix_spawnattr_setsigmask(&attributes, &noMask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var env: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { env[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        for (k, v) in extra { env[k] = v }
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(shell), strdup("-c"), strdup(commandLine), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, shell, &actions, &attributes, argv, envp)
        close(toChild[1]); close(errPipe[1])
        let input = toChild[0], errors = errPipe[0]
        guard rc == 0 else {
            close(input); close(errors)
            return Run(outcome: .couldNotStart("\(shell): \(String(cString: strerror(rc)))"), stderrTail: "")
        }
        _ = fcntl(input, F_SETFL, fcntl(input, F_GETFL) | O_NONBLOCK)
        _ = fcntl(errors, F_SETFL, fcntl(errors, F_GETFL) | O_NONBLOCK)

        let bytes = Array(inputText.utf8)
        var written = 0
        var inputOpen = true
        if bytes.isEmpty { shutdown(input, Int32(SHUT_WR)); inputOpen = false }
        var tail: [UInt8] = []
        let tailCap = 2048
        let deadline = MonotonicTime.now() + timeout
        var status: Int32 = 0
        var outcome: Outcome?
        var buffer = [UInt8](repeating: 0, count: 4096)

        var errorsOpen = true
        func drainErrors() {
            while errorsOpen {
                let n = buffer.withUnsafeMutableBytes { read(errors, $0.baseAddress!, $0.count) }
                if n == 0 { errorsOpen = false }     // EOF: stop polling it (POLLHUP would spin)
                if n <= 0 { return }
                tail += buffer[0..<n]
                if tail.count > tailCap { tail.removeFirst(tail.count - tailCap) }
            }
        }
        while outcome == nil {
            if inputOpen {
                let n = bytes.withUnsafeBytes { send(input, $0.baseAddress! + written, $0.count - written, Int32(MSG_NOSIGNAL)) }
                if n > 0 { written += n }
                if written == bytes.count || (n < 0 && errno != EAGAIN && errno != EINTR) {
                    shutdown(input, Int32(SHUT_WR))     // EOF for the command (or it stopped reading: EPIPE)
                    inputOpen = false
                }
            }
            drainErrors()
            let w = waitpid(pid, &status, WNOHANG)
            if w == pid {
                outcome = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
                break
            }
            if MonotonicTime.now() >= deadline {
                kill(-pid, SIGTERM)
                let grace = MonotonicTime.now() + 0.5
                while waitpid(pid, &status, WNOHANG) != pid {
                    if MonotonicTime.now() >= grace { kill(-pid, SIGKILL); _ = waitpid(pid, &status, 0); break }
                    usleep(10_000)
                }
                kill(-pid, SIGKILL)                     // anything of the group still about
                outcome = .timedOut
                break
            }
            var fds: [pollfd] = errorsOpen ? [pollfd(fd: errors, events: Int16(POLLIN), revents: 0)] : []
            if inputOpen { fds.append(pollfd(fd: input, events: Int16(POLLOUT), revents: 0)) }
            _ = poll(&fds, nfds_t(fds.count), 20)
        }
        drainErrors()
        close(input); close(errors)
        return Run(outcome: outcome!, stderrTail: String(decoding: tail, as: UTF8.self))
    }
}
