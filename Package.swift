// swift-tools-version: 6.0
// Keel: task stacks on Cortex-M made safe and small. The host side: the KeelKit library,
// the thin `keel` command line, and the tests (host unit tests and QEMU integration tests).
// The firmware in Firmware/ is Embedded Swift, built by `keel build`, never by this package.
import PackageDescription

let package = Package(
    name: "Keel",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "keel", targets: ["keel"]),
        .library(name: "KeelKit", targets: ["KeelKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Property tests of the layout planner (random task sets against the MPU's rules).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
    ],
    targets: [
        // The kernel-host contract: Firmware/Kernel/Contract is compiled into every firmware image
        // and, the same files, into this host module (fault kinds, techniques, fault status bits,
        // the MPU's permission rules, the containment judgement), so both sides share one
        // definition and the pure parts of the fault path are tested on the host.
        .target(name: "KeelContract", path: "Firmware/Kernel/Contract"),
        .target(name: "KeelKit", dependencies: ["KeelContract"]),
        .executableTarget(
            name: "keel",
            dependencies: ["KeelKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "KeelKitTests",
            dependencies: ["KeelKit", "KeelContract", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        // Boots firmware in QEMU; depends on `keel` so the command-line tests find it built.
        .testTarget(name: "KeelIntegrationTests", dependencies: ["KeelKit", "keel"]),
    ]
)
