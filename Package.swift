// swift-tools-version: 6.0
import PackageDescription

// DNSPROP_NO_SERVER=1 leaves out `watch --listen` (DNSPropServe, SwiftNIO, swift-prometheus):
// Scripts/leak-check and Scripts/thread-check build that way, so that CI does not compile
// SwiftNIO once more under each sanitizer (DNSPropServeTests run in the plain build).
let withServer = Context.environment["DNSPROP_NO_SERVER"] == nil

var dependencies: [Package.Dependency] = [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
]
if withServer {
    // watch --listen: the HTTP server (NIOHTTP1) and the Prometheus exposition format.
    dependencies += [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ]
}

var targets: [Target] = [
    // ldns: DNS wire format (Debian: libldns-dev).
    .systemLibrary(
        name: "CLDNS",
        pkgConfig: "ldns",
        providers: [.apt(["libldns-dev"])]
    ),
    // libidn2: IDNA2008 conversion of internationalised names (Debian: libidn2-dev).
    .systemLibrary(
        name: "CIDN2",
        pkgConfig: "libidn2",
        providers: [.apt(["libidn2-dev"])]
    ),
    // Socket shims Swift cannot express (CMSG macros for the ICMP error queue).
    .target(name: "CDNSPropShims"),
    .target(
        name: "DNSProp",
        dependencies: ["CLDNS", "CIDN2", "CDNSPropShims"]
    ),
    .executableTarget(
        name: "DNSPropCLI",
        dependencies: ["DNSProp", "CDNSPropShims", .product(name: "ArgumentParser", package: "swift-argument-parser")]
            + (withServer ? ["DNSPropServe"] : []),
        swiftSettings: withServer ? [.define("DNSPROP_SERVER")] : []
    ),
    // libFuzzer target over the decode path (Scripts/fuzz builds it with -DFUZZING);
    // built normally it replays corpus files through the same code.
    .executableTarget(
        name: "DNSPropFuzz",
        dependencies: ["DNSProp"]
    ),
    .testTarget(
        name: "DNSPropTests",
        dependencies: ["DNSProp", "CLDNS"]
    ),
]
if withServer {
    targets += [
        // watch --listen: /metrics, /status.json and the status page, served from a WatchSession.
        .target(
            name: "DNSPropServe",
            dependencies: [
                "DNSProp",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "DNSPropServeTests",
            dependencies: ["DNSPropServe", "DNSProp"]
        ),
    ]
}

let package = Package(
    name: "dnsprop",
    products: [
        .executable(name: "dnsprop", targets: ["DNSPropCLI"]),
        .library(name: "DNSProp", targets: ["DNSProp"]),
    ],
    dependencies: dependencies,
    targets: targets,
    swiftLanguageModes: [.v6]
)
