import Foundation

/// Runs the built `dnsprop` binary (it sits beside the test bundle) and captures its output.
struct ToolRun {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutBytes: Data

    static var binary: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("dnsprop")
    }

    /// Runs the binary without holding a thread of Swift's cooperative pool while it runs (see
    /// `offThePool`): a check through the binary can take seconds on a loaded machine.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> ToolRun {
        try await offThePool { try runBlocking(arguments, environment: environment) }
    }

    private static func runBlocking(_ arguments: [String], environment: [String: String]) throws -> ToolRun {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        // Registry look-ups (RDAP) go to a closed loopback port unless a test names a server:
        // tests never reach the real registries.
        env["DNSPROP_RDAP_URL"] = env["DNSPROP_RDAP_URL"] ?? "http://127.0.0.1:9/"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes while the process runs so that neither fills up.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        process.waitUntilExit()
        group.wait()
        return ToolRun(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                       stderr: String(decoding: errData, as: UTF8.self), stdoutBytes: outData)
    }

    func json() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: stdoutBytes) as? [String: Any] ?? [:]
    }
}
