// swift-tools-version:6.0
// MemScope: how much memory does a Transformer-XL really need? (Rae & Razavi, ACL 2020)
import PackageDescription

// -Ounchecked would drop overflow checks too; plain -O keeps them, and the hot loops use raw pointers.
let package = Package(
    name: "MemScope",
    platforms: [.macOS(.v15)],  // SignalWatch uses the Synchronization module
    products: [
        .executable(name: "memscope", targets: ["memscope"]),
    ],
    dependencies: [
        // Flags, subcommands and help text for the `memscope` executable.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries (each imported by exactly one Swift file).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CNcurses", pkgConfig: "ncursesw", providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // AVX2 products and attention for inference at small batch (C with target attributes; see kernels.c).
        .target(name: "CKernels"),
        .target(name: "TXL", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "Training", dependencies: ["TXL", "Analysis"]),
        // Signals that end a long run cleanly (SIGINT, SIGTERM, SIGHUP): training, preparing the corpus, the explorer.
        .target(name: "Signals"),
        .target(name: "Corpus", dependencies: ["CZlib", "CCrypto", "Signals"]),
        .target(name: "Analysis", dependencies: ["TXL", "Corpus"]),
        // Sweeps: grids of memory arrangements trained or evaluated, with charts (`memscope sweep`).
        .target(name: "Sweep", dependencies: ["TXL", "Training", "Corpus", "Analysis"]),
        .target(name: "Explorer", dependencies: ["TXL", "Analysis"]),
        .target(name: "Terminal", dependencies: ["Explorer", "Signals", "CNcurses", "CTerminalGuard"]),
        // Restores the terminal from a fatal-signal handler (async-signal-safe C; imported by CursesScreen.swift).
        .target(name: "CTerminalGuard"),
        .executableTarget(name: "memscope", dependencies: [
            "TXL", "Training", "Corpus", "Analysis", "Signals", "Sweep", "Explorer", "Terminal",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "TXLTests", dependencies: ["TXL"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "TXL"]),
        .testTarget(name: "CorpusTests", dependencies: ["Corpus"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "TXL", "Signals"]),
        .testTarget(name: "SweepTests", dependencies: ["Sweep", "TXL", "Training"]),
        .testTarget(name: "ExplorerTests", dependencies: ["Explorer", "TXL", "Analysis"]),
    ]
)

