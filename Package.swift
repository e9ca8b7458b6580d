// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "rekey",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "rekey", targets: ["rekey"]),
        .library(name: "RekeyKit", targets: ["RekeyKit"]),
        .library(name: "Curl", targets: ["Curl"]),
        .library(name: "Mail", targets: ["Mail"]),
        .library(name: "OAuth", targets: ["OAuth"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // libcurl through typed C wrappers for its variadic calls.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        // libcrypto (OpenSSL 3) for AES-256-GCM, HMAC, digests, RSA and random bytes.
        .target(name: "COpenSSL", linkerSettings: [.linkedLibrary("crypto")]),
        .target(name: "Curl", dependencies: ["CCurl"]),
        // A standalone OAuth 1.0a and 2.0 client: signing, PKCE, flows, loopback redirects, token management.
        .target(name: "OAuth", dependencies: ["Curl", "OpenSSLCrypto"]),
        // MIME composition for email: no dependencies, tested against the RFCs and Python's email parser.
        .target(name: "Mail"),
        .target(name: "OpenSSLCrypto", dependencies: ["COpenSSL"]),
        .target(
            name: "RekeyKit",
            dependencies: [
                "Curl", "Mail", "OAuth", "OpenSSLCrypto",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The HTTP service: the live incident dashboard, the JSON API, and the worker loop running beside it.
        .target(
            name: "RekeyServer",
            dependencies: [
                "RekeyKit", "OpenSSLCrypto",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "rekey",
            dependencies: [
                "RekeyKit", "RekeyServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Shared by the test targets: temporary folders, the built binary, real servers on loopback.
        .target(name: "RekeyTestSupport", path: "Tests/RekeyTestSupport"),
        .testTarget(name: "CurlTests", dependencies: ["Curl", "CCurl", "RekeyTestSupport"]),
        .testTarget(name: "MailTests", dependencies: ["Mail", "RekeyTestSupport"]),
        .testTarget(name: "OAuthTests", dependencies: ["OAuth", "RekeyTestSupport"]),
        .testTarget(name: "RekeyKitTests", dependencies: [
            "RekeyKit", "Curl", "OAuth", "OpenSSLCrypto", "RekeyTestSupport", .product(name: "Mustache", package: "swift-mustache"),
        ], exclude: ["Fixtures"]),
        .testTarget(name: "RekeyServerTests", dependencies: [
            "RekeyServer", "RekeyKit", "RekeyTestSupport", .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "EndToEndTests", dependencies: ["RekeyKit", "Curl", "RekeyTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
