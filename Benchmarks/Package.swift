// swift-tools-version:6.0
// Microbenchmarks of RoleWatch's hot path, kept out of the main package so that CI and users'
// builds never compile them. Run: swift run -c release --package-path Benchmarks decoder-throughput
import PackageDescription

let package = Package(
    name: "RoleWatchBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "RoleWatch", path: "..")],
    targets: [
        .executableTarget(
            name: "decoder-throughput",
            dependencies: [.product(name: "RoleWatchKit", package: "RoleWatch")]
        )
    ]
)
