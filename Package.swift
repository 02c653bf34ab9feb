// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "RoleWatch",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "RoleWatchKit", targets: ["RoleWatchKit"]),
        .executable(name: "rolewatch", targets: ["rolewatch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        .target(
            name: "RoleWatchKit",
            dependencies: ["CZlib", "Yams", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .executableTarget(
            name: "rolewatch",
            dependencies: [
                "RoleWatchKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "RoleWatchKitTests",
            dependencies: ["RoleWatchKit", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ]
)
