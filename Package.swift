// swift-tools-version:6.1
// tfreg: a private Terraform module registry with AWS IAM authentication.
// The folder tree is the architecture; see docs/architecture.md.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "tfreg",
    products: [
        .executable(name: "tfreg", targets: ["tfreg"])
    ],
    dependencies: [
        // HTTP server for `tfreg serve`. Traits off: no full Foundation, no swift-configuration.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // MARK: C system libraries (one Swift module imports each)
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .yum(["sqlite-devel"])]
        ),
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .yum(["openssl-devel"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .yum(["zlib-devel"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .yum(["libcurl-devel"])]
        ),

        // MARK: Libraries
        // Small system utilities (file I/O, the blocking bridge, timestamps, ASCII classes, trimming):
        // a target of its own, not a folder in TFRegCore, because targets below Core (HTTP client, AWS)
        // need it too and Core is not a grab bag. Glibc and Dispatch only.
        .target(name: "TFRegSystem", swiftSettings: swiftSettings),
        .target(name: "TFRegCrypto", dependencies: ["CLibCrypto"], swiftSettings: swiftSettings),
        .target(name: "TFRegJSON", swiftSettings: swiftSettings),
        .target(
            name: "TFRegCore",
            dependencies: ["TFRegCrypto", "TFRegJSON", "TFRegOpenPGP", "TFRegSystem", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(name: "TFRegArchive", dependencies: ["CZlib", "TFRegCore", "TFRegCrypto", "TFRegSystem"], swiftSettings: swiftSettings),
        .target(name: "TFRegHTTPClient", dependencies: ["CCurl", "TFRegSystem"], swiftSettings: swiftSettings),
        // Module documentation (issue 19): the HCL parser, and the extractor over canonical archives.
        .target(name: "TFRegHCL", dependencies: ["TFRegJSON"], swiftSettings: swiftSettings),
        .target(
            name: "TFRegDocs",
            dependencies: ["TFRegHCL", "TFRegCore", "TFRegArchive", "TFRegJSON", "TFRegSystem"],
            swiftSettings: swiftSettings
        ),
        // Issue 20 (providers): strict OpenPGP public-key and detached-signature parser; verification through
        // TFRegCrypto (still the only importer of libcrypto).
        .target(name: "TFRegOpenPGP", dependencies: ["TFRegCrypto"], swiftSettings: swiftSettings),
        .target(name: "TFRegSigV4", dependencies: ["TFRegCrypto", "TFRegSystem"], swiftSettings: swiftSettings),
        .target(
            name: "TFRegAWS",
            dependencies: ["TFRegCrypto", "TFRegHTTPClient", "TFRegJSON", "TFRegSigV4", "TFRegSystem"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TFRegStoreLocal",
            dependencies: ["CSQLite", "TFRegCore", "TFRegCrypto", "TFRegSystem"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TFRegStoreAWS",
            dependencies: ["TFRegCore", "TFRegCrypto", "TFRegAWS", "TFRegSystem"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TFRegAPI",
            dependencies: ["TFRegCore", "TFRegCrypto", "TFRegArchive", "TFRegJSON", "TFRegSystem", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TFRegServer",
            dependencies: [
                "TFRegAPI",
                "TFRegSystem",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TFRegLambda",
            dependencies: [
                "TFRegAPI", "TFRegCore", "TFRegCrypto", "TFRegHTTPClient", "TFRegJSON", "TFRegSystem",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TFRegCLI",
            dependencies: [
                "TFRegCore", "TFRegCrypto", "TFRegArchive", "TFRegDocs", "TFRegHTTPClient", "TFRegStoreLocal",
                "TFRegAWS", "TFRegSigV4", "TFRegStoreAWS", "TFRegAPI", "TFRegJSON", "TFRegServer", "TFRegLambda", "TFRegSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["BuildInfo"]
        ),
        // Writes BuildInfo.swift (the git commit `tfreg --version` prints) before every build.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        .executableTarget(name: "tfreg", dependencies: ["TFRegCLI"], swiftSettings: swiftSettings),

        // MARK: Tests
        .target(
            name: "TFRegTesting",
            dependencies: ["TFRegCore", "TFRegHTTPClient", "TFRegSystem"],
            path: "Tests/TFRegTesting",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TFRegSystemTests", dependencies: ["TFRegSystem", "TFRegTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "TFRegCoreTests", dependencies: ["TFRegCore", "TFRegSystem", "TFRegTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TFRegAWSTests",
            dependencies: ["TFRegAWS", "TFRegCrypto", "TFRegHTTPClient", "TFRegSystem", "TFRegTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TFRegSigV4Tests", dependencies: ["TFRegSigV4"], exclude: ["botocore_sign.py"], swiftSettings: swiftSettings),
        .testTarget(name: "TFRegJSONTests", dependencies: ["TFRegJSON"], swiftSettings: swiftSettings),
        // Module documentation (issue 19): the parser's hostile inputs; the extractor against the Go HCL oracle.
        .testTarget(name: "TFRegHCLTests", dependencies: ["TFRegHCL", "TFRegJSON"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TFRegDocsTests",
            dependencies: ["TFRegDocs", "TFRegHCL", "TFRegCore", "TFRegArchive", "TFRegJSON", "TFRegSystem", "TFRegTesting"],
            exclude: ["oracle", "corpus"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TFRegStoreAWSTests", dependencies: ["TFRegStoreAWS", "TFRegAWS", "TFRegCore"], swiftSettings: swiftSettings),
        .testTarget(name: "TFRegHTTPClientTests", dependencies: ["TFRegHTTPClient"], swiftSettings: swiftSettings),
        .testTarget(name: "TFRegCryptoTests", dependencies: ["TFRegCrypto"], swiftSettings: swiftSettings),
        // Issue 20 (providers): keys and signatures made by gpg in a temporary GNUPGHOME.
        // Also the provider publish path end to end (service, stores in memory, zip inspector, gpg-made keys).
        .testTarget(
            name: "TFRegOpenPGPTests",
            dependencies: ["TFRegOpenPGP", "TFRegCrypto", "TFRegCore", "TFRegArchive", "TFRegTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TFRegArchiveTests", dependencies: ["TFRegArchive", "TFRegCrypto", "TFRegTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TFRegStoreLocalTests",
            dependencies: ["TFRegStoreLocal", "TFRegSystem", "TFRegTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TFRegAPITests",
            dependencies: ["TFRegAPI", "TFRegJSON", "TFRegStoreLocal", "TFRegArchive", "TFRegTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TFRegLambdaTests",
            dependencies: ["TFRegLambda", "TFRegAPI", "TFRegCore", "TFRegStoreLocal", "TFRegTesting"],
            swiftSettings: swiftSettings
        ),
        // The connection handlers on NIO's EmbeddedChannel (a fake clock, no sockets).
        .testTarget(
            name: "TFRegServerTests",
            dependencies: [
                "TFRegServer",
                "TFRegAPI",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TFRegCLITests",
            dependencies: [
                "TFRegCLI", "TFRegAWS", "TFRegArchive", "TFRegCore", "TFRegStoreLocal", "TFRegTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["TFRegHTTPClient", "TFRegArchive", "TFRegCrypto", "TFRegAWS", "TFRegStoreAWS", "TFRegTesting"],
            exclude: ["s3_gateway.py", "lambda_runtime_api.py", "web_browser.py"],
            swiftSettings: swiftSettings
        ),
    ]
)

// MARK: Fuzz targets (`make fuzz`, `make fuzz-ci`; see Fuzz/README.md)
// Only with TFREG_FUZZ=1, built into .build-fuzz with -sanitize=fuzzer,address: each is a libFuzzer
// binary `fuzz-NAME` from Fuzz/NAME/main.swift, which calls `fuzz { bytes in … }` (Fuzz/Support: libFuzzer
// as a library, since SwiftPM gives each executable its own `main`). Seeds are in Fuzz/NAME/corpus,
// its -max_len in Fuzz/NAME/max_len.
let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
    ("sealed-token", ["TFRegCore", "TFRegCrypto", "TFRegSystem"]),
    ("static-token", ["TFRegCore", "TFRegCrypto"]),
    ("caller-identity", ["TFRegCore", "TFRegStoreAWS", "TFRegSystem"]),
    ("json", ["TFRegAPI", "TFRegJSON"]),
    ("url", ["TFRegAPI", "TFRegCrypto"]),
    ("lambda-event", ["TFRegLambda", "TFRegAPI", "TFRegJSON"]),
    ("sigv4", ["TFRegSigV4"]),
    ("aws-config", ["TFRegAWS", "TFRegHTTPClient", "TFRegSystem"]),
    ("dynamodb-wire", ["TFRegAWS", "TFRegStoreAWS", "TFRegSystem"]),
    ("terraformrc", ["TFRegCLI"]),
    // The strict archive reader (ArchiveFuzzProperties.check returns nil or the violated property):
    ("archive", ["TFRegArchive"]),
    // README Markdown, link targets and session cookies of the web pages:
    ("markdown", ["TFRegAPI", "TFRegCore", "TFRegSystem"]),
    // The HCL parser (native and JSON syntax): never traps, bounded.
    ("hcl", ["TFRegHCL", "TFRegJSON"]),
    // README → description, search terms and README words, publish details, the docs JSON reader:
    ("module-text", ["TFRegCore", "TFRegJSON"]),
    // Issue 21: GET /v1/audit's query and cursor, and stored audit events read back.
    ("audit-query", ["TFRegAPI", "TFRegCore", "TFRegJSON"]),
    // Issue 20 (providers): OpenPGP key and detached-signature parsers.
    ("openpgp-key", ["TFRegOpenPGP"]),
    ("openpgp-signature", ["TFRegOpenPGP"]),
    // Issue 20 (providers): the strict zip reader of provider packages and the h1: hash.
    ("zip", ["TFRegArchive"]),
    // Issue 20 (providers): the upload's tar splitter and release classifier.
    ("provider-release", ["TFRegAPI"]),
]
if Context.environment["TFREG_FUZZ"] == "1" {
    package.targets.append(.systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"))
    package.targets.append(
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Fuzz/Support", swiftSettings: swiftSettings)
    )
    for t in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: "fuzz-\(t.name)",
                dependencies: ["FuzzSupport"] + t.dependencies,
                path: "Fuzz/\(t.name)",
                exclude: ["corpus", "max_len"],
                swiftSettings: swiftSettings
            )
        )
    }
}
