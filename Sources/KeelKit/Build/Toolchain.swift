// The tools a firmware build needs, found once: swiftc with its clang and ld.lld, and libgcc.
//
// clang and ld.lld are taken from beside swiftc (the Swift toolchain's own LLVM, the same
// version that produced the IR). libgcc.a comes from Debian's gcc-arm-none-eabi, one per
// multilib, for the integer-division and 64-bit helpers the ARMv6-M/v7-M code calls.

import Foundation

public struct Toolchain: Sendable {
    public var swiftc: URL
    public var clang: URL
    public var linker: URL
    public var objdump: URL?
    /// llvm-objcopy: the split-stack route strips the split-stack note sections with it.
    public var objcopy: URL?
    public var demangler: URL?
    /// llvm-symbolizer: a fault's PC to file:line, its inlined frames and a trap's reason.
    public var sourceSymbolizer: URL?
    /// Folder holding the per-multilib `libgcc.a` (…/gcc/arm-none-eabi/<version>).
    public var libgccRoot: URL

    static let setupHint = "run ./Scripts/setup (it installs qemu-system-arm and gcc-arm-none-eabi)"

    public static func locate() throws(KeelError) -> Toolchain {
        guard let swiftc = Subprocess.find("swiftc", in: ["/opt/swift/usr/bin"]) else {
            throw .toolMissing(tool: "swiftc", hint: "install Swift 6.3 (the toolchain with Embedded Swift)")
        }
        let bin = swiftc.resolvingSymlinksInPath().deletingLastPathComponent()
        func beside(_ name: String) -> URL? {
            let url = bin.appendingPathComponent(name)
            return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
        }
        guard let clang = beside("clang") else { throw .toolMissing(tool: "clang", hint: "expected beside \(swiftc.path)") }
        guard let linker = beside("ld.lld") else { throw .toolMissing(tool: "ld.lld", hint: "expected beside \(swiftc.path)") }
        let gccRoot = URL(fileURLWithPath: "/usr/lib/gcc/arm-none-eabi")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: gccRoot.path))?.sorted() ?? []
        guard let version = versions.last else {
            throw .toolMissing(tool: "libgcc.a for arm-none-eabi", hint: setupHint)
        }
        return Toolchain(swiftc: swiftc, clang: clang, linker: linker, objdump: beside("llvm-objdump"), objcopy: beside("llvm-objcopy"),
                         demangler: beside("swift-demangle"), sourceSymbolizer: beside("llvm-symbolizer"),
                         libgccRoot: gccRoot.appendingPathComponent(version))
    }

    /// libgcc for `board` under `float`: the hard-float multilib's helpers take and return
    /// floats in s/d registers, as the image's code calls them.
    public func libgcc(for board: Board, float: FloatABI = .soft) throws(KeelError) -> URL {
        let multilib = board.usesHardFloat(float) ? board.fpu?.hardFloatMultilib ?? board.libgccMultilib : board.libgccMultilib
        let url = libgccRoot.appendingPathComponent(multilib).appendingPathComponent("libgcc.a")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .toolMissing(tool: url.path, hint: Toolchain.setupHint)
        }
        return url
    }
}

/// Where Keel's own files (Firmware/, Tools/) are, first found of:
/// 1. `$KEEL_ROOT`;
/// 2. `../share/keel` beside the running executable (`Scripts/install` puts them there);
/// 3. the source tree this was built from (`swift run keel`, the tests).
public enum KeelRoot {
    public static var url: URL {
        if let root = ProcessInfo.processInfo.environment["KEEL_ROOT"] { return URL(fileURLWithPath: root) }
        if let installed { return installed }
        return sourceTree
    }

    /// The source checkout: Sources/KeelKit/Build/Toolchain.swift -> the package root.
    static var sourceTree: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// PREFIX/share/keel when the executable is PREFIX/bin/keel and the kernel is there.
    static var installed: URL? {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        let executableURL = Bundle.main.executableURL?.resolvingSymlinksInPath() ?? executable
        let share = executableURL.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/keel")
        let kernel = share.appendingPathComponent("Firmware/Kernel/Keel.swift").path
        return FileManager.default.fileExists(atPath: kernel) ? share : nil
    }

    /// Where compiled kernels and tools are kept: the source tree's .build/keel, or for an
    /// installed Keel (whose share folder may not be writable) $XDG_CACHE_HOME/keel or ~/.cache/keel.
    public static var cache: URL {
        let root = url
        if FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            return root.appendingPathComponent(".build/keel")
        }
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("keel")
    }

    public static var firmware: URL { url.appendingPathComponent("Firmware") }
    public static var examples: URL { firmware.appendingPathComponent("Examples") }
}
