// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "dnsprop",
    products: [
        .executable(name: "dnsprop", targets: ["DNSPropCLI"]),
        .library(name: "DNSProp", targets: ["DNSProp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
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
            dependencies: [
                "DNSProp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
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
    ],
    swiftLanguageModes: [.v6]
)
