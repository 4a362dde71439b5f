// swift-tools-version:6.2
import PackageDescription

// Dependencies point one way: ClosetModel depends on nothing; drivers depend on the
// model; ClosetAgent assembles them; the executables only parse arguments.
// The agent side imports no full Foundation (ICU alone costs ~20 MB RSS): see README.
let package = Package(
    name: "closet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "closet-agent", targets: ["closet-agent"]),
        .executable(name: "closet-store", targets: ["closet-store"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The store and the tests decode records with the generated code; no traits: the
        // default ones pull Foundation's streams.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0", traits: []),
        // The central store only (no memory budget there).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(name: "ClosetModel"),
        .target(
            name: "ClosetConfig",
            dependencies: ["ClosetModel"]
        ),
        .target(name: "ClosetSensors", dependencies: ["ClosetModel", "ClosetConfig"]),
        .systemLibrary(
            name: "CModbus", pkgConfig: "libmodbus",
            providers: [.apt(["libmodbus-dev"])]
        ),
        .systemLibrary(
            name: "CUSB", pkgConfig: "libusb-1.0",
            providers: [.apt(["libusb-1.0-0-dev"])]
        ),
        .systemLibrary(
            name: "CNetSNMP", pkgConfig: "netsnmp",
            providers: [.apt(["libsnmp-dev"])]
        ),
        .target(name: "ClosetSNMP", dependencies: ["ClosetModel", "ClosetConfig", "CNetSNMP"]),
        // libcrypto is already mapped by net-snmp: SHA-256 and HMAC cost no extra memory.
        .systemLibrary(
            name: "CCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(name: "CLinux"),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "ClosetSQLite", dependencies: ["CSQLite"]),
        .target(
            name: "ClosetUplink",
            dependencies: [
                "ClosetModel", "ClosetConfig", "ClosetWire", "ClosetSQLite", "ClosetSocket", "CCrypto",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The records the agent pushes (hand-written encoder; closet.proto is the contract).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "ClosetWire", dependencies: ["ClosetModel", "CCrypto", "CZlib"]),
        .target(
            name: "ClosetWireProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["closet.proto"]
        ),
        .target(
            name: "ClosetBackup",
            dependencies: [
                "ClosetModel", "ClosetConfig", "ClosetSNMP", "CCrypto", "CLinux",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "ClosetSerial", dependencies: ["ClosetModel"]),
        .target(name: "ClosetConsole", dependencies: ["ClosetModel"]),
        .target(name: "ClosetUSBHID", dependencies: ["ClosetModel", "ClosetConfig", "CUSB"]),
        .target(name: "ClosetSocket", dependencies: ["ClosetModel"]),
        .target(name: "ClosetNUT", dependencies: ["ClosetModel", "ClosetConfig", "ClosetSocket"]),
        .target(name: "ClosetModbus", dependencies: ["ClosetModel", "ClosetConfig", "CModbus"]),
        .target(name: "ClosetMegatec", dependencies: ["ClosetModel", "ClosetConfig", "ClosetSerial"]),
        .target(
            name: "ClosetAgent",
            dependencies: [
                "ClosetModel", "ClosetConfig", "ClosetSensors", "ClosetModbus", "ClosetMegatec", "ClosetSNMP", "ClosetConsole", "ClosetSerial", "ClosetBackup", "ClosetUplink", "ClosetWire", "ClosetNUT", "ClosetUSBHID", "CLinux",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(name: "ClosetTesting", dependencies: ["ClosetModel", "ClosetUSBHID"]),
        .executableTarget(
            name: "closet-agent",
            dependencies: [
                "ClosetAgent", "ClosetConfig", "ClosetModel", "ClosetModbus", "ClosetSNMP", "ClosetUSBHID",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ClosetStore",
            dependencies: [
                "ClosetModel", "ClosetWire", "ClosetSQLite", "CCrypto",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "closet-store",
            dependencies: [
                "ClosetStore", "ClosetWire", "ClosetModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
.executableTarget(name: "closet-bench", dependencies: ["ClosetStore", "ClosetUSBHID", "ClosetBackup", "ClosetWire", "ClosetTesting", "ClosetUplink", "ClosetSQLite", "ClosetModbus", "ClosetSNMP", "ClosetConsole", "ClosetConfig", "ClosetModel"]),
        .testTarget(name: "ClosetModelTests", dependencies: ["ClosetModel", "ClosetTesting"]),
        .testTarget(name: "ClosetConfigTests", dependencies: ["ClosetConfig", "ClosetModel", "ClosetSensors", "ClosetTesting"]),
        .testTarget(name: "ClosetUSBHIDTests", dependencies: ["ClosetUSBHID", "ClosetModel", "ClosetTesting"]),
        .testTarget(name: "ClosetNUTTests", dependencies: ["ClosetNUT", "ClosetModel", "ClosetConfig", "ClosetTesting"]),
        .testTarget(name: "ClosetConsoleTests", dependencies: ["ClosetConsole", "ClosetModel", "ClosetTesting"], exclude: ["golden"]),
        .testTarget(name: "ClosetSNMPTests", dependencies: ["ClosetSNMP", "ClosetAgent", "ClosetModel", "ClosetConfig", "ClosetTesting"]),
        .testTarget(name: "ClosetModbusTests", dependencies: ["ClosetModbus", "ClosetModel", "ClosetConfig", "ClosetTesting"]),
        .testTarget(name: "ClosetMegatecTests", dependencies: ["ClosetMegatec", "ClosetSerial", "ClosetModel", "ClosetConfig", "ClosetTesting"]),
        .testTarget(name: "ClosetBackupTests", dependencies: ["ClosetBackup", "ClosetModel", "ClosetConfig", "ClosetSNMP", "ClosetTesting"]),
        .testTarget(name: "ClosetWireTests", dependencies: ["ClosetWire", "ClosetWireProto", "ClosetModel", "ClosetTesting"]),
        .testTarget(name: "ClosetUplinkTests", dependencies: ["ClosetUplink", "ClosetWire", "ClosetModel", "ClosetTesting"]),
        .testTarget(
            name: "ClosetStoreTests",
            dependencies: [
                "ClosetStore", "ClosetUplink", "ClosetWire", "ClosetModel", "ClosetTesting", "ClosetAgent", "ClosetConfig", "ClosetSensors",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "ClosetSensorsTests", dependencies: ["ClosetSensors", "ClosetModel", "ClosetTesting"]),
        .testTarget(
            name: "ClosetAgentTests",
            dependencies: [
                "ClosetAgent", "ClosetModel", "ClosetConfig", "ClosetSensors", "ClosetModbus", "ClosetNUT", "ClosetTesting", "closet-agent",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
