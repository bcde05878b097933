#if canImport(Glibc)
import Glibc
#endif

/// Conversions between `ServerAddress` and the kernel's sockaddr structures.
extension ServerAddress {
    var family: Int32 { ip.isIPv6 ? AF_INET6 : AF_INET }

    /// Calls `body` with a sockaddr for this address.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch ip {
        case .v4(let v):
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = port.bigEndian
            sa.sin_addr = in_addr(s_addr: v.bigEndian)
            return withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6:
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sa.sin6_addr) { dst in
                for (i, b) in ip.bytes.enumerated() { dst[i] = b }
            }
            return withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }

    /// Reads an AF_INET/AF_INET6 sockaddr; nil for other families.
    init?(storage: UnsafePointer<sockaddr_storage>) {
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            let sa = UnsafeRawPointer(storage).load(as: sockaddr_in.self)
            self.init(ip: .v4(UInt32(bigEndian: sa.sin_addr.s_addr)), port: UInt16(bigEndian: sa.sin_port))
        case AF_INET6:
            let sa = UnsafeRawPointer(storage).load(as: sockaddr_in6.self)
            let bytes = withUnsafeBytes(of: sa.sin6_addr) { Array($0) }
            // An IPv4-mapped source on an IPv6 socket is the IPv4 server itself.
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                let v = UInt32(bytes[12]) << 24 | UInt32(bytes[13]) << 16 | UInt32(bytes[14]) << 8 | UInt32(bytes[15])
                self.init(ip: .v4(v), port: UInt16(bigEndian: sa.sin6_port))
            } else {
                self.init(ip: IPAddress(v6Bytes: bytes), port: UInt16(bigEndian: sa.sin6_port))
            }
        default:
            return nil
        }
    }
}

/// errno as text.
func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }
