// swift-tools-version:6.0
import PackageDescription

// Layering, one direction only:
//   C shims (CCryptoShim, CCurl, CZlib, CLibDeflate, CZstd, CChildProcess) → Hashing, SigV4, HTTPTransport,
//   ChildProcess → AWSCore → clients (STS, ECR, RegistryClient) and DockerEngine → AWSCredentials (chain; uses
//   STS), ImageExport (docker save stream → compressed layers) → ECRLogin (registry logins: ECR and ECR Public
//   tokens, the token cache, the credential helper, docker config, ecrpush's registry config) → ECRPushKit (push
//   orchestration, doctor) → ecrpush (the only module that prints or exits).
let package = Package(
    name: "ecrpush",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ecrpush", targets: ["ecrpush"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // BuildKit's session: gRPC over HTTP/2 served to the Engine on its own socket (only while building).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0")
    ],
    targets: [
        .target(name: "CCryptoShim", linkerSettings: [.linkedLibrary("crypto")]),
        // No pkgConfig: its -lcurl would link libcurl, which shim.h loads with dlopen on first use instead.
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibDeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        .target(name: "Hashing", dependencies: ["CCryptoShim"]),
        // Runs a child process safely from a multithreaded program (close-on-exec pipes, clean signal state).
        .target(name: "CChildProcess"),
        .target(name: "ChildProcess", dependencies: ["CChildProcess"]),
        .target(name: "SigV4", dependencies: ["Hashing"]),
        .target(name: "HTTPTransport", dependencies: ["CCurl"]),
        .target(name: "AWSCore", dependencies: ["SigV4", "HTTPTransport"]),
        .target(name: "STS", dependencies: ["AWSCore", "SigV4"]),
        .target(name: "ECR", dependencies: ["AWSCore", "HTTPTransport", "Hashing"]),
        .target(name: "DockerEngine", dependencies: ["HTTPTransport"]),
        // BuildKit through the Engine: its progress trace (protobuf) and the session ecrpush serves to the Engine
        // (secrets, registry credentials), gRPC over HTTP/2 on a connection upgraded from the Engine's socket.
        // Generated/ is protoc-gen-swift's output for Protos/ (tools/gen-protos.sh), committed.
        .target(
            name: "BuildKitSession",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"), .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf")
            ],
            exclude: ["Protos"]),
        // A registry on 127.0.0.1 for the Engine's push, relaying to the destination through ecrpush's clients.
        .target(
            name: "RegistryRelay",
            dependencies: [
                "Hashing", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio")
            ]),
        // The OCI distribution API (what `docker push` speaks to a registry), with basic auth.
        .target(name: "RegistryClient", dependencies: ["HTTPTransport", "Hashing"]),
        .target(name: "AWSCredentials", dependencies: ["AWSCore", "SigV4", "STS", "HTTPTransport", "Hashing", "ChildProcess"]),
        // Reads `docker save` streams (legacy and OCI layouts) and turns layers into gzip blobs with digests.
        .target(name: "ImageExport", dependencies: ["Hashing", "CZlib", "CLibDeflate", "CZstd"]),
        // Registry logins: ECR and ECR Public tokens (cached on disk), the docker credential helper, docker config.
        .target(
            name: "ECRLogin",
            dependencies: ["AWSCredentials", "AWSCore", "SigV4", "HTTPTransport", "STS", "ECR", "Hashing", "ChildProcess"]),
        // Pushes: the registry, ECR API and daemon transports, the blob cache, the push workflow, doctor.
        .target(
            name: "ECRPushKit",
            dependencies: [
                "ECRLogin", "AWSCredentials", "AWSCore", "HTTPTransport", "STS", "ECR", "DockerEngine", "BuildKitSession", "ImageExport",
                "RegistryClient", "RegistryRelay", "Hashing"
            ]),
        .executableTarget(
            name: "ecrpush",
            dependencies: [
                "ECRPushKit", "ECRLogin", "AWSCredentials", "AWSCore", "STS", "ECR", "HTTPTransport", "DockerEngine", "BuildKitSession",
                "ImageExport",
                "RegistryClient", "Hashing",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),
        // Starts and stops the loopback world (moto, registry, dockerd) for integration tests.
        .target(name: "TestWorld", dependencies: ["ChildProcess", "CChildProcess"], path: "Tests/TestWorld"),

        .testTarget(name: "HashingTests", dependencies: ["Hashing"]),
        // The SigV4 conformance suite is read in place from Resources/ (see SuiteCase.swift).
        .testTarget(name: "SigV4Tests", dependencies: ["SigV4"], exclude: ["Resources"]),
        .testTarget(name: "HTTPTransportTests", dependencies: ["HTTPTransport", "TestWorld"]),
        .testTarget(name: "AWSCoreTests", dependencies: ["AWSCore", "SigV4", "HTTPTransport"]),
        .testTarget(
            name: "AWSCredentialsTests", dependencies: ["AWSCredentials", "AWSCore", "SigV4", "STS", "HTTPTransport", "TestWorld"],
            exclude: ["Fixtures"]),
        .testTarget(name: "AWSClientsTests", dependencies: ["STS", "ECR", "AWSCore", "SigV4", "HTTPTransport", "Hashing", "TestWorld"]),
        .testTarget(name: "DockerEngineTests", dependencies: ["DockerEngine", "HTTPTransport", "Hashing", "TestWorld"]),
        .testTarget(name: "BuildKitSessionTests", dependencies: ["BuildKitSession"]),
        .testTarget(name: "RegistryClientTests", dependencies: ["RegistryClient", "Hashing", "TestWorld"]),
        .testTarget(name: "RegistryRelayTests", dependencies: ["RegistryRelay", "RegistryClient", "Hashing", "TestWorld"]),
        .testTarget(name: "ImageExportTests", dependencies: ["ImageExport", "Hashing", "TestWorld"]),
        .testTarget(
            name: "ECRLoginTests",
            dependencies: ["ECRLogin", "AWSCore", "AWSCredentials", "ECR", "HTTPTransport", "TestWorld"]),
        .testTarget(
            name: "ECRPushKitTests",
            dependencies: [
                "ECRPushKit", "AWSCore", "SigV4", "DockerEngine", "BuildKitSession", "ECR", "ImageExport", "RegistryClient", "RegistryRelay",
                "Hashing", "TestWorld"
            ]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestWorld"])
    ],
    swiftLanguageModes: [.v6]
)
