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
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.26.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        .systemLibrary(
            name: "CISAL",
            providers: [.apt(["libisal-dev"])]
        ),
        // libmaxminddb: the ASN of addresses outside AWS, from a GeoLite2 or DB-IP database.
        .systemLibrary(
            name: "CMaxMindDB",
            providers: [.apt(["libmaxminddb-dev"]), .brew(["libmaxminddb"])]
        ),
        // RE2 (Debian's libre2-dev) behind a small C interface: user patterns in linear time.
        .target(
            name: "CRE2",
            linkerSettings: [.linkedLibrary("re2")]
        ),
        .target(
            name: "RoleWatchKit",
            dependencies: [
                "CZlib", "CISAL", "CMaxMindDB", "CRE2", "Yams",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            // Release builds leave out the run-time exclusivity checks (swift_beginAccess and its
            // access set: 7% of the engine's thread, 0.93x the scan's time without them); debug
            // builds, which the tests run, keep them, so an overlapping access still fails a test.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // jemalloc's options for the tool's process (its `malloc_conf`); linked into the tool only.
        .target(name: "CMallocConfig"),
        .executableTarget(
            name: "rolewatch",
            dependencies: [
                "RoleWatchKit", "CMallocConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // jemalloc (Debian's libjemalloc-dev) replaces glibc's malloc in the tool: reading
            // threads allocate each event's strings and the engine's thread frees them, which glibc
            // serves from locked per-thread arenas (a fifth of a reading thread in `_int_malloc`);
            // with jemalloc a scan takes about 0.77x the time, and varies far less.
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
        ),
        .testTarget(
            name: "RoleWatchKitTests",
            dependencies: [
                "RoleWatchKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    cxxLanguageStandard: .cxx17
)
