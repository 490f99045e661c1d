// swift-tools-version: 6.2
import PackageDescription

// Strict settings for every target of ours (see ../shared/STYLE.md §8).
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "vectortd",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Protocol", targets: ["Protocol"]),
        .library(name: "VectortTesting", targets: ["VectortTesting"]),
        .executable(name: "vectortd", targets: ["vectortd"]),
        .executable(name: "vectortctl", targets: ["vectortctl"]),
        .executable(name: "vectort-bench", targets: ["vectort-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .target(name: "Protocol", swiftSettings: strict),
        // Shared vocabulary with no I/O: errors, ids, path rules, the injected clocks.
        .target(name: "VectortCore", dependencies: ["Protocol"], swiftSettings: strict),
        // What operators watch: the metrics registry (swift-metrics over swift-prometheus) with
        // the engine's named instruments, and the bus of domain events `Events.Subscribe` follows.
        .target(
            name: "Observability",
            dependencies: [
                "Protocol",
                "VectortCore",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        // Talking to LLM providers and reading their answers: providers, the fallback chain,
        // circuit breakers, the file-stream parser, validators, prompts. No database.
        .target(
            name: "Generation",
            dependencies: [
                "Protocol",
                "VectortCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // The storage seam: backend-neutral async repositories, and the SQLite backend behind them
        // through GRDB (the database, schema migrations, the group-commit writer and its balance
        // cache, the checkpointer, idempotency records). GRDB types never leave this target.
        .target(
            name: "Storage",
            dependencies: [
                "Observability",
                "Protocol",
                "VectortCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The offline `template` provider: starter apps rendered from prompt-derived values.
        .target(
            name: "Starters",
            dependencies: [
                "Protocol",
                "VectortCore",
                "Generation",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // The apps' files (Apps/<starter>/…): compiled in by EmbedStarters, not copied as
            // resources, so the daemon stays one self-contained binary.
            exclude: ["Apps"],
            swiftSettings: strict,
            plugins: ["EmbedStarters"]
        ),
        .executableTarget(name: "embed-starters", swiftSettings: strict),
        .plugin(name: "EmbedStarters", capability: .buildTool(), dependencies: ["embed-starters"]),
        .target(
            name: "Engine",
            dependencies: [
                "Observability",
                "Protocol",
                "VectortCore",
                "Storage",
                "Generation",
                "Starters",
                "Build",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Build",
            dependencies: [
                "Observability",
                "Protocol",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Signing in: session tokens (JWT through jwt-kit). No HTTP server, no database.
        .target(
            name: "Auth",
            dependencies: [
                "VectortCore",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The web API: the platform's /api routes over the engine, in process (Hummingbird).
        .target(
            name: "VectortAPI",
            dependencies: [
                "Observability",
                "Protocol",
                "VectortCore",
                "Engine",
                "Auth",
                "Build",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VectortDaemon",
            dependencies: [
                "Observability",
                "Protocol",
                "VectortCore",
                "Generation",
                "Engine",
                "Auth",
                "VectortAPI",
                "Build",
                "CSystemd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "vectortd", dependencies: ["VectortDaemon"], swiftSettings: strict),
        .target(
            name: "VectortCommands",
            dependencies: [
                "Protocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "vectortctl", dependencies: ["VectortCommands"], swiftSettings: strict),
        .target(
            name: "VectortTesting",
            dependencies: [
                "Protocol",
                "VectortCore",
                "Generation",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "vectort-bench",
            dependencies: [
                "Engine",
                "Storage",
                "Protocol",
                "VectortCore",
                "VectortTesting",
                "Build",
                "Starters",
                "Generation",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ProtocolTests",
            dependencies: ["Protocol", "VectortCore", "VectortTesting"],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VectortCoreTests",
            dependencies: ["VectortCore", "Protocol", "VectortTesting"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StorageTests",
            dependencies: [
                "Storage", "VectortCore", "Protocol", "VectortTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GenerationTests",
            dependencies: [
                "Generation", "Protocol", "VectortCore", "VectortTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "BuildTests",
            dependencies: ["Build", "Protocol", "Starters", "VectortTesting"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StartersTests",
            dependencies: ["Starters", "Generation", "Build", "Protocol", "VectortCore", "VectortTesting"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VectortCommandsTests",
            dependencies: ["VectortCommands", "Protocol", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Engine", "Storage", "Generation", "Starters", "Build", "Protocol", "VectortCore", "VectortTesting", "Auth",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VectortdTests",
            dependencies: [
                "VectortDaemon",
                "VectortAPI",
                "VectortTesting",
                "Protocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "Protocol", "VectortCore", "VectortTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
    ]
)
