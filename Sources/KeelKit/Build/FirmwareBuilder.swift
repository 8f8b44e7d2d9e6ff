// The firmware build: manifest -> task table + linker script -> swiftc (IR) -> clang -> ld.lld.
//
// Kernel, application and generated table are one whole-module Embedded Swift compile, so
// the kernel's switch path is optimised together with the code that calls it. swiftc emits
// LLVM IR and clang turns it into an object: the same route gives `.stack_sizes` (frame
// sizes for the static analysis) and the split-stack prologue for segmented tasks.
//
// Code routes (`CodeRoute`): native Thumb-2 for the board's core (Thumb-1 on the M0); or,
// when some task's stack is segmented, the split-stack route, with the prologue on the code
// only tasks run (SplitStackIR.swift) and `__morestack` from Port/armv6m/MoreStack.S. LLVM
// emits the ARM prologue only for Linux triples, so the application's IR is retargeted:
//   - on the M3 and M33 the image stays the board's own Thumb-2: the kernel is compiled as on
//     the native route, the application for `thumbv7m`/`thumbv8m.main-unknown-linux-gnueabi`
//     to assembly, whose prologues read the limit through a coprocessor the M-profile lacks
//     until SplitPrologueRewrite.swift makes them load `__STACK_LIMIT`;
//   - on the M0 the whole image is Thumb-1 for `thumbv6m-unknown-linux-gnueabi` (its own
//     instruction set anyway; that prologue loads `__STACK_LIMIT` itself).
// The benches also build Thumb-1 code without the prologue (`thumb1`) and the Thumb-1 split
// route on every board (`thumb1SplitStack`, what the M3 and M33 ran before issue 15) to price
// each step separately. A split-stack build links twice: the stack analysis of the first
// image picks the task code that needs no check (nosplit, Analysis/UncheckedChains.swift),
// and the second image is verified by the same analysis before it is kept.
// A build whose inputs have not changed is not redone (a hash of every input is kept).

import Foundation
@_spi(Contract) import KeelContract

public struct FirmwareImage: Sendable {
    public var elf: URL
    public var board: Board
    public var application: Application
    public var layout: RAMLayout
    public var flashBytes: Int
    public var ramBytes: Int
    /// False when an identical earlier build was reused.
    public var rebuilt: Bool
    public var route: CodeRoute
    /// Task code built without the split-stack check because the analysis proved it fits
    /// in the slack (symbols; empty unless the route is split-stack).
    public var nosplitFunctions: [String]

    /// The flash contents as raw bytes from the flash origin (for `probe-rs download
    /// --binary-format bin --base-address`, `pyocd flash -a`, OpenOCD `program ... ADDRESS`).
    public var binary: URL { elf.deletingPathExtension().appendingPathExtension("bin") }
    /// The same as Intel HEX, addresses included (nRF tools, OpenOCD, pyOCD, drag-and-drop loaders).
    public var hex: URL { elf.deletingPathExtension().appendingPathExtension("hex") }
}

/// How the firmware's Swift code is compiled (see the top of this file).
public enum CodeRoute: String, Sendable, CaseIterable {
    /// The board's own instruction set (Thumb-2 on the M3 and M33).
    case native
    /// Thumb-1 on every board, no prologue: the Thumb-1 split-stack code without its checks.
    case thumb1
    /// The split-stack prologue on task code; needed by segmented stacks. The board's own
    /// code: Thumb-2 on the M3 and M33, Thumb-1 on the M0.
    case splitStack = "split-stack"
    /// Thumb-1 with the split-stack prologue on every board (the M3's and M33's split route
    /// before issue 15; the bench keeps it as the comparison).
    case thumb1SplitStack = "thumb1-split-stack"

    /// The image has split-stack code, `__morestack` and the segment machinery.
    public var isSplit: Bool { self == .splitStack || self == .thumb1SplitStack }

    /// Kernel and application are Thumb-1 for `SplitStackIR.triple` (their IR is retargeted).
    public func isThumb1(on board: Board) -> Bool {
        self == .thumb1 || self == .thumb1SplitStack || (self == .splitStack && board.architecture == .armv6m)
    }

    /// The application is compiled to assembly for a Thumb-2 Linux triple and its prologues
    /// rewritten (SplitPrologueRewrite); the kernel is compiled as on the native route.
    public func isThumb2Split(on board: Board) -> Bool { self == .splitStack && board.architecture != .armv6m }
}

public struct FirmwareBuilder: Sendable {
    /// The Swift files the build generates into the application's module: the task table and
    /// kernel objects, and the entry thunks.
    public static let generatedFileNames = ["KeelGenerated.swift", "KeelEntries.swift"]

    /// Beside the image: the functions that lost the split-stack check, one per line.
    static let nosplitExtension = "nosplit"
    public var toolchain: Toolchain
    public var firmwareRoot: URL
    /// Where compiled kernels are kept, one folder per board and configuration.
    public var kernelCache: URL

    public init(toolchain: Toolchain, firmwareRoot: URL = KeelRoot.firmware,
                kernelCache: URL = KeelRoot.cache.appendingPathComponent("kernels")) {
        self.toolchain = toolchain
        self.firmwareRoot = firmwareRoot
        self.kernelCache = kernelCache
    }

    /// Builds `application` for `board`; the ELF goes to `output` or the application's .build folder.
    /// `route` nil: split-stack when a task is segmented or has T6, native otherwise.
    /// `nosplit` false keeps the prologue on all task code (the bench's "before").
    public func build(_ application: Application, for board: Board, output: URL? = nil,
                      route requestedRoute: CodeRoute? = nil, nosplit: Bool = true) throws(KeelError) -> FirmwareImage {
        let automatic: CodeRoute = application.usesSplitStackCode ? .splitStack : .native
        let route = requestedRoute ?? automatic
        if application.usesSplitStackCode && !route.isSplit {
            let why = application.usesSegmentedStacks ? "segmented stacks" : "the prologue check (T6)"
            throw .buildFailed(step: "choose the code route", output: "\(why) need the split-stack route, not '\(route.rawValue)'")
        }
        // The image replaces whatever file is at `output`; a directory there would be removed.
        if let output { try FileKind.requireWritable(output.path, creatingFolders: true) }
        let layout = try LayoutPlanner.plan(application, on: board)
        // A route other than the application's own builds beside it, not over it.
        let suffix = (route == automatic ? "" : "-" + route.rawValue) + (route.isSplit && !nosplit ? "-checked" : "")
        let directory = application.buildFolder.appendingPathComponent("\(application.name)-\(board.name)\(suffix)")
        let elf = output ?? directory.appendingPathComponent("\(application.name).elf")
        try createDirectory(directory)
        try createDirectory(elf.deletingLastPathComponent())
        // From the stamp check to the last write, this build owns the folder: another keel
        // process building the same application waits, then finds this image up to date.
        let folderLock = try FolderLock(directory)
        defer { folderLock.unlock() }

        let generated = TaskTableGenerator.source(for: application, layout: layout, board: board, splitStack: route.isSplit)
        let linkerScript = LinkerScriptGenerator.script(for: board, layout: layout)
        let kernelSources = try swiftFiles(under: firmwareRoot.appendingPathComponent("Kernel"))
        let port = firmwareRoot.appendingPathComponent("Port/\(board.architecture.rawValue)/Port.S")
        let moreStack = firmwareRoot.appendingPathComponent("Port/armv6m/MoreStack.S")
        let defines = compileConditions(application, board, route)
        let float = Self.float(of: application, on: board, route: route)
        let swiftArguments = swiftFlags(board, defines, route, float: float)
        let clangArguments = clangFlags(board, float: float)
        let thumb1 = ["--target=\(SplitStackIR.triple)", "-mcpu=cortex-m0", "-mfloat-abi=soft", "-fno-pic"]
        let kernelCodeArguments = route.isThumb1(on: board) ? thumb1 : clangArguments
        let applicationCodeArguments = route.isThumb1(on: board) ? thumb1
            : route.isThumb2Split(on: board) ? clangFlags(board, target: SplitStackIR.triple(for: board), float: float) : clangArguments
        let codeArguments = kernelCodeArguments + applicationCodeArguments

        // Reuse the last build when nothing that goes into it changed.
        let entries = TaskTableGenerator.entries(for: application, board: board)
        var fingerprint = Fingerprint()
        fingerprint.add(generated); fingerprint.add(entries); fingerprint.add(linkerScript)
        fingerprint.add(swiftArguments.joined(separator: " ")); fingerprint.add(codeArguments.joined(separator: " "))
        fingerprint.add(route.rawValue); fingerprint.add(toolchain.swiftc.path); fingerprint.add("nosplit \(nosplit)")
        for file in kernelSources + registerHeaders + application.sources + portInputs(port) + [moreStack] { fingerprint.add(file: file) }
        // The image's build ID is this fingerprint: the same inputs, the same ID.
        let buildIdentity = fingerprint.value
        let stamp = elf.appendingPathExtension("inputs")
        if FileManager.default.fileExists(atPath: elf.path),
           (try? String(contentsOf: stamp, encoding: .utf8)) == fingerprint.hex {
            return try image(elf, board, application, layout, rebuilt: false, route: route)
        }
        // Before anything compiles (a cached image passed it already: its sources and manifest
        // are in the fingerprint): a misspelt entry is a manifest mistake, not a compile error.
        try EntryCheck.check(application)
        try InterruptLineCheck.check(application, board: board)

        // Whatever this build produces replaces the last image: a failed build leaves none.
        removeImage(at: elf)
        let generatedFile = directory.appendingPathComponent(Self.generatedFileNames[0])
        let entriesFile = directory.appendingPathComponent(Self.generatedFileNames[1])
        let scriptFile = directory.appendingPathComponent("link.ld")
        try write(generated, to: generatedFile)
        try write(entries, to: entriesFile)
        try write(LinkerScriptGenerator.script(for: board, layout: layout, buildIdentity: buildIdentity), to: scriptFile)
        let applicationIR = directory.appendingPathComponent("application.swift.ll")
        let portObject = directory.appendingPathComponent("port.o")

        // The kernel is its own module (`Keel`), the same for every application of a board and
        // configuration (the defines say which detectors it has): compiled once into a cache
        // folder named by everything that goes into it, and reused across edits and applications.
        let kernelArguments = swiftArguments + ["-module-name", Self.kernelModule]
        var kernelFingerprint = Fingerprint()
        kernelFingerprint.add(kernelArguments.joined(separator: " ")); kernelFingerprint.add(kernelCodeArguments.joined(separator: " "))
        kernelFingerprint.add(route.rawValue); kernelFingerprint.add(toolchain.swiftc.path)
        for file in kernelSources + registerHeaders { kernelFingerprint.add(file: file) }
        let kernel = kernelCache.appendingPathComponent("\(board.name)-\(kernelFingerprint.hex.prefix(16))")
        let modules = kernel.appendingPathComponent("modules")
        let kernelIR = kernel.appendingPathComponent("kernel.swift.ll")
        let kernelModuleFile = modules.appendingPathComponent("\(Self.kernelModule).swiftmodule")
        if !FileManager.default.fileExists(atPath: kernelIR.path) || !FileManager.default.fileExists(atPath: kernelModuleFile.path) {
            // Built beside and moved into place: a cache folder is either whole or absent.
            let staging = kernelCache.appendingPathComponent("staging-\(UUID().uuidString)")
            let stagingModules = staging.appendingPathComponent("modules")
            try createDirectory(stagingModules)
            do {
                try Subprocess.step("swiftc (kernel)", toolchain.swiftc,
                    kernelArguments + kernelSources.map(\.path)
                        + ["-emit-module", "-emit-module-path", stagingModules.appendingPathComponent("\(Self.kernelModule).swiftmodule").path,
                           "-emit-ir", "-o", staging.appendingPathComponent("kernel.swift.ll").path])
            } catch {
                _ = try? FileManager.default.removeItem(at: staging)
                throw error
            }
            // Never removed first: another build may be using a kernel that is already there.
            do { try FileManager.default.moveItem(at: staging, to: kernel) } catch {
                _ = try? FileManager.default.removeItem(at: staging)
                // Another build put the same kernel there first: that one is as good.
                guard FileManager.default.fileExists(atPath: kernelModuleFile.path) else {
                    throw .buildFailed(step: "install the kernel in \(kernel.path)", output: error.localizedDescription)
                }
            }
        }
        // The application imports it and sees its public API only.
        do {
            try Subprocess.step("swiftc (\(application.name))", toolchain.swiftc,
                swiftArguments + (route.isSplit ? ["-Xcc", "-fsplit-stack"] : [])
                    + ["-module-name", Self.applicationModule, "-I", modules.path]
                    + (application.sources + [entriesFile, generatedFile]).map(\.path) + ["-emit-ir", "-o", applicationIR.path])
        } catch {
            throw OlderKeelHint.annotated(error, sources: application.sources)
        }
        if !application.objects.queues.isEmpty {
            let ir: String
            do { ir = try String(contentsOf: applicationIR, encoding: .utf8) } catch {
                throw .buildFailed(step: "read \(applicationIR.path)", output: error.localizedDescription)
            }
            try QueueElementCheck.check(application.objects, ir: ir,
                                        manifestPath: application.directory.appendingPathComponent("keel.json").path)
        }
        try Subprocess.step("clang (port assembly)", toolchain.clang,
            clangArguments + (defines + Self.portLayoutDefines(board.architecture)).flatMap { ["-D", $0] } + ["-c", port.path, "-o", portObject.path])
        var assembly = [portObject.path]
        if route.isSplit {
            let moreStackObject = directory.appendingPathComponent("morestack.o")
            try Subprocess.step("clang (__morestack)", toolchain.clang,
                clangArguments + (defines + Self.portLayoutDefines(board.architecture)).flatMap { ["-D", $0] } + ["-c", moreStack.path, "-o", moreStackObject.path])
            assembly.append(moreStackObject.path)
        }
        let temporary = elf.appendingPathExtension("partial")
        let link = Link(directory: directory, kernel: kernel, kernelIR: kernelIR, applicationIR: applicationIR, route: route, board: board,
                        kernelCodeArguments: kernelCodeArguments, applicationCodeArguments: applicationCodeArguments, assembly: assembly, script: scriptFile, libgcc: try toolchain.libgcc(for: board, float: float), output: temporary)
        let first: SplitStackIR.Result?
        do { first = try compileAndLink(link, nosplit: []) } catch {
            throw RAMOverflow.explained(error, layout: layout, application: application, board: board)
        }
        var nosplitFunctions: [String] = []
        if route.isSplit && nosplit, let split = first?.split {
            nosplitFunctions = try dropProvenChecks(link, application: application, split: split)
        }
        try write(nosplitFunctions.map { $0 + "\n" }.joined(), to: elf.appendingPathExtension(Self.nosplitExtension))
        _ = try? FileManager.default.removeItem(at: elf)
        do {
            try FileManager.default.moveItem(at: temporary, to: elf)
        } catch {
            throw .buildFailed(step: "install \(elf.path)", output: error.localizedDescription)
        }
        // The flash image for a real part, beside the ELF: raw bytes and Intel HEX.
        if let objcopy = toolchain.objcopy {
            let base = elf.deletingPathExtension()
            try Subprocess.step("llvm-objcopy (.bin)", objcopy, ["-O", "binary", elf.path, base.appendingPathExtension("bin").path])
            try Subprocess.step("llvm-objcopy (.hex)", objcopy, ["-O", "ihex", elf.path, base.appendingPathExtension("hex").path])
        }
        try write(fingerprint.hex, to: stamp)
        return try image(elf, board, application, layout, rebuilt: true, route: route)
    }

    /// One build `buildAll` makes: an application and the route and nosplit choice it is built with.
    public struct Job: Sendable {
        public var application: Application
        public var route: CodeRoute?
        public var nosplit: Bool
        public init(_ application: Application, route: CodeRoute? = nil, nosplit: Bool = true) {
            self.application = application; self.route = route; self.nosplit = nosplit
        }
    }

    /// Builds `jobs` as many at a time as the machine has cores (a compile keeps one busy), so
    /// a bench's images are ready before it counts. Each lands where `build` would put it and
    /// is found there by the next `build`; a failure is left for that `build` to report.
    public func buildAll(_ jobs: [Job], for board: Board) {
        DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
            _ = try? build(jobs[index].application, for: board, route: jobs[index].route, nosplit: jobs[index].nosplit)
        }
    }

    /// Removes an image and what lies beside it (its inputs stamp, .nosplit, .bin, .hex).
    public func removeImage(_ image: FirmwareImage) { removeImage(at: image.elf) }

    func removeImage(at elf: URL) {
        let beside = ["inputs", Self.nosplitExtension].map { elf.appendingPathExtension($0) }
            + ["bin", "hex"].map { elf.deletingPathExtension().appendingPathExtension($0) }
        for file in [elf] + beside {
            _ = try? FileManager.default.removeItem(at: file)
        }
    }

    /// What one compile-and-link of the Swift code needs (the assembly is built once).
    struct Link {
        var directory: URL
        /// The kernel's cache folder: its object is made there once and reused.
        var kernel: URL
        /// The kernel's module (never split) and the application's (split on the split-stack route).
        var kernelIR: URL
        var applicationIR: URL
        var route: CodeRoute
        var board: Board
        /// clang's target and CPU for each module's IR (the application's may be a Linux triple).
        var kernelCodeArguments: [String]
        var applicationCodeArguments: [String]
        var assembly: [String]
        var script: URL
        var libgcc: URL
        var output: URL
    }

    /// IR → objects → linked image. The Thumb-1 routes rewrite both modules' IR first
    /// (SplitStackIR): the application's keeps its split-stack marks on a split route, the
    /// kernel's never has any. On the Thumb-2 split route only the application's IR is
    /// rewritten, compiled to assembly and its prologues rewritten (SplitPrologueRewrite).
    /// Returns the application's IR rewrite (nil on the native route).
    func compileAndLink(_ link: Link, nosplit: Set<String>) throws(KeelError) -> SplitStackIR.Result? {
        var objects: [String] = []
        var applicationRewrite: SplitStackIR.Result? = nil
        let thumb1 = link.route.isThumb1(on: link.board), thumb2Split = link.route.isThumb2Split(on: link.board)
        for (name, source) in [("kernel", link.kernelIR), ("application", link.applicationIR)] {
            let isKernel = name == "kernel", isApplication = !isKernel
            let installed = (isKernel ? link.kernel : link.directory).appendingPathComponent("\(name).o")
            if isKernel && FileManager.default.fileExists(atPath: installed.path) {
                objects.append(installed.path)  // compiled for an earlier build of the same kernel
                continue
            }
            // The kernel's folder is shared by every build of that kernel, in every keel
            // process: its object is made under a name of this build's own and renamed into
            // place whole (rename(2) is atomic), so no build ever links a half-written one.
            let object = isKernel ? link.kernel.appendingPathComponent("kernel.o.\(UUID().uuidString).partial") : installed
            defer { if isKernel { _ = try? FileManager.default.removeItem(at: object) } }
            var ir = source
            if thumb1 || (thumb2Split && isApplication) {
                ir = link.directory.appendingPathComponent("\(name).ll")
                let text: String
                do { text = try String(contentsOf: source, encoding: .utf8) } catch {
                    throw .buildFailed(step: "read \(source.path)", output: error.localizedDescription)
                }
                if thumb2Split { try SplitPrologueRewrite.requireFreeScratchRegister(ir: text) }
                let rewrite = SplitStackIR.rewrite(text, triple: thumb1 ? SplitStackIR.triple : SplitStackIR.triple(for: link.board),
                                                   splitStack: isApplication && link.route.isSplit, nosplit: isApplication ? nosplit : [])
                if isApplication { applicationRewrite = rewrite }
                try write(rewrite.text, to: ir)
            }
            let codeArguments = isKernel ? link.kernelCodeArguments : link.applicationCodeArguments
            let compile = codeArguments + ["-O2", "-fstack-size-section", "-mllvm", "-disable-loop-idiom-all", "-Wno-override-module"]
            if thumb2Split && isApplication {
                let assembly = link.directory.appendingPathComponent("\(name).s")
                try Subprocess.step("clang (\(name) IR -> assembly)", toolchain.clang, compile + ["-S", ir.path, "-o", assembly.path])
                let text: String
                do { text = try String(contentsOf: assembly, encoding: .utf8) } catch {
                    throw .buildFailed(step: "read \(assembly.path)", output: error.localizedDescription)
                }
                let rewritten = link.directory.appendingPathComponent("\(name).rewritten.s")
                try write(try SplitPrologueRewrite.rewrite(text).text, to: rewritten)
                try Subprocess.step("clang (\(name) assembly -> object)", toolchain.clang,
                    codeArguments + ["-c", rewritten.path, "-o", object.path])
            } else {
                try Subprocess.step("clang (\(name) IR -> object)", toolchain.clang, compile + ["-c", ir.path, "-o", object.path])
            }
            if link.route.isSplit {
                // ld.lld refuses split code calling code without the note ("requires
                // __morestack_non_split"); Keel decides which code is split, so the notes go.
                guard let objcopy = toolchain.objcopy else {
                    throw .toolMissing(tool: "llvm-objcopy", hint: "expected beside \(toolchain.swiftc.path)")
                }
                try Subprocess.step("llvm-objcopy (drop split-stack notes)", objcopy,
                    ["--remove-section=.note.GNU-split-stack", "--remove-section=.note.GNU-no-split-stack", object.path])
            }
            if isKernel {
                // An identical object another build renamed there first is simply replaced.
                guard rename(object.path, installed.path) == 0 else {
                    throw .buildFailed(step: "install \(installed.path)", output: String(cString: strerror(errno)))
                }
            }
            objects.append(installed.path)
        }
        try Subprocess.step("ld.lld", toolchain.linker,
            ["-T", link.script.path, "--gc-sections"] + objects + link.assembly + [link.libgcc.path, "-o", link.output.path])
        return applicationRewrite
    }

    /// Nosplit (issue 5): reads the first link's unchecked chains, takes the prologue off the
    /// task code whose trees fit in the slack without lengthening any chain, links again and
    /// verifies the new image the same way. Returns the functions that lost the prologue.
    func dropProvenChecks(_ link: Link, application: Application, split: [String]) throws(KeelError) -> [String] {
        let slack = UInt32(SegmentedStack.slackBytes)
        func chains() throws(KeelError) -> UncheckedChains {
            let elf: ELFFile
            do { elf = try ELFFile(contentsOf: link.output) } catch { throw .elf(error.description) }
            let analysis = try StackAnalysis.depths(elf: elf, path: link.output.path, application: application,
                                                    demangler: toolchain.demangler)
            guard let chains = UncheckedChains(analysis: analysis) else {
                throw .buildFailed(step: "find the split-stack checks", output: "\(link.output.path) has no __morestack")
            }
            return chains
        }
        let before = try chains()
        let candidates = Set(split.filter { !$0.hasPrefix(TaskTableGenerator.entryPrefix) })
        let functions = before.analysis.graph.functions
        let chosen = before.nosplitChoice(slackBytes: slack) { candidates.contains(functions[$0].name) }
            .map { functions[$0].name }
        guard !chosen.isEmpty else { return [] }
        let beforeReport = before.report(slackBytes: slack)
        guard let rewrite = try compileAndLink(link, nosplit: Set(chosen)) else { return [] }
        // The proof is on the new image: no chain may be longer than the slack, or than the
        // first image's longest chain when that one already was.
        let after = try chains().report(slackBytes: slack)
        let allowed = max(slack, beforeReport.longest?.bytes ?? 0)
        if let longest = after.longest, longest.bytes > allowed || after.tooLong.count > beforeReport.tooLong.count {
            throw .buildFailed(step: "verify the functions built without the split-stack check",
                output: "after taking the check off \(rewrite.nosplit.count) functions, code runs \(longest.bytes) bytes below the limit "
                    + "from the check of \(longest.function) (slack \(slack)): " + longest.path.map(\.function).joined(separator: " -> "))
        }
        return rewrite.nosplit
    }

    /// The task control block and scheduler offsets the port's assembly uses, by name
    /// (Contract/PortLayout.swift; every image checks them against the compiler's layout at boot).
    static func portLayoutDefines(_ architecture: Architecture) -> [String] {
        ["TCB_EXC_RETURN=\(PortLayout.exceptionReturn)", "TCB_FLOATING_POINT=\(PortLayout.floatingPoint)",
         "TCB_STACK_POINTER=\(PortLayout.stackPointer)", "TCB_STACK_LIMIT=\(PortLayout.stackLimit)",
         "TCB_SWITCH_REGIONS=\(PortLayout.switchRegions)", "TCB_SPLIT_LIMIT=\(PortLayout.splitLimit)",
         "SCHEDULER_CURRENT=\(architecture == .armv6m ? PortLayout.schedulerCurrentARMv6M : PortLayout.schedulerCurrent)",
         "KEEL_KERNEL_CEILING=\(KernelCeiling.basePriority)"]
    }

    /// -D conditions: the architecture, and one per detector some task uses.
    func compileConditions(_ application: Application, _ board: Board, _ route: CodeRoute = .native) -> [String] {
        var defines = ["KEEL_\(board.architecture.rawValue.uppercased())"]
        let used = application.protectionsInUse
        if used.contains(.redZone) { defines.append("KEEL_RED_ZONE") }
        if used.contains(.stackPointerCheck) { defines.append("KEEL_SP_CHECK") }
        if used.contains(.limitRegister) { defines.append("KEEL_LIMIT_REGISTER") }
        // The MPU guards the handler stack on every MPU board; tasks' regions are loaded at
        // switch-in only when some task uses T2 or T3.
        if board.mpu != .none { defines.append("KEEL_MPU") }
        defines.append("KEEL_UART_\(board.console.kind.rawValue.uppercased())")
        if !board.console.transmitInterrupt { defines.append("KEEL_UART_POLLED_TRANSMIT") }
        if board.watchdog != nil { defines.append("KEEL_WATCHDOG_CMSDK") }
        defines.append("KEEL_TIMER_\(board.timer.kind.rawValue.uppercased())")
        // The FPU is on and s16-s31 are part of a task's context (Port.S, FloatingPoint.swift).
        if Self.float(of: application, on: board, route: route) == .hard { defines.append("KEEL_FPU") }
        if !application.objects.mutexes.isEmpty { defines.append("KEEL_MUTEXES") }
        if used.contains(.mpuRegion) || used.contains(.mpuGuard) { defines.append("KEEL_MPU_SWITCH") }
        if route.isThumb1(on: board) { defines.append("KEEL_THUMB1") }
        if route.isSplit {
            // The prologue's limit word is loaded at every switch-in; segmented tasks on a core
            // with PSPLIM also get it as the hardware backstop (the segment's bottom).
            defines.append("KEEL_SPLIT_STACK")
            if application.usesSegmentedStacks {
                defines.append("KEEL_SEGMENTED")
                if board.hasStackLimitRegisters && !defines.contains("KEEL_LIMIT_REGISTER") { defines.append("KEEL_LIMIT_REGISTER") }
                // On the M3 the MPU guard that follows the segment in use is one of the
                // segmented task's switch regions, loaded at every switch-in.
                if application.usesSegmentGuard(on: board) {
                    defines.append("KEEL_SEGMENT_GUARD")
                    if !defines.contains("KEEL_MPU_SWITCH") { defines.append("KEEL_MPU_SWITCH") }
                }
            }
        }
        return defines
    }

    /// The float ABI an image is built with: the manifest's (hard by default on an FPU board),
    /// except on the Thumb-1 route, whose code is the M0's and soft-float everywhere.
    static func float(of application: Application, on board: Board, route: CodeRoute) -> FloatABI {
        board.usesHardFloat(application.float) && !route.isThumb1(on: board) ? .hard : .soft
    }

    /// clang's (and swiftc's `-Xcc`) float options: the FPU and the hard-float ABI, or none.
    static func floatOptions(_ board: Board, _ float: FloatABI) -> [String] {
        if board.usesHardFloat(float), let fpu = board.fpu { return ["-mfloat-abi=hard", "-mfpu=\(fpu.clangFPU)"] }
        return ["-mfloat-abi=soft"]
    }

    /// clang's `-mcpu`: the board's core with the extensions it turns off, and without its
    /// FPU for a soft-float image (ARMv6-M has none to turn off).
    static func clangCPU(_ board: Board, _ float: FloatABI) -> String {
        board.cpu + board.cpuExtensions + (board.architecture == .armv6m || board.usesHardFloat(float) ? "" : "+nofp")
    }

    func swiftFlags(_ board: Board, _ defines: [String], _ route: CodeRoute = .native, float: FloatABI = .soft) -> [String] {
        let thumb1 = route.isThumb1(on: board)
        // The inline critical sections (Port/include): the kernel imports them, and an
        // application's inlined fast paths use them, both under the same conditions.
        let registerModule: [String] = ["-I", registerHeaderFolder.path, "-Xcc", "-DKEEL_KERNEL_CEILING=\(KernelCeiling.basePriority)"]
        let conditions: [String] = defines.flatMap { ["-D", $0, "-Xcc", "-D" + $0] }
        let common: [String] = ["-target", thumb1 ? "armv6m-none-none-eabi" : board.swiftTarget, "-target-cpu", thumb1 ? "cortex-m0" : board.cpu,
         "-enable-experimental-feature", "Embedded", "-enable-experimental-feature", "Extern",
         "-wmo", "-parse-as-library", "-O",
         // Debug info for the host's fault decoding (file:line, inlined frames, a trap's reason):
         // only unloaded .debug_* sections, so flash, RAM and the code are the same as without.
         "-gline-tables-only",
         "-Xcc", "-fno-pic"] + Self.floatOptions(board, float).flatMap { ["-Xcc", $0] }
         + (thumb1 || board.cpuExtensions.isEmpty ? [] : ["-Xcc", "-mcpu=" + board.cpu + board.cpuExtensions]) + [
         "-Xfrontend", "-disable-stack-protector", "-enforce-exclusivity=unchecked",
         "-Xllvm", "-disable-loop-idiom-all", "-suppress-warnings"]
        return common + registerModule + conditions
    }

    /// The C module of inline register accesses (KeelRegisters.h and its module map).
    var registerHeaderFolder: URL { firmwareRoot.appendingPathComponent("Port/include") }
    var registerHeaders: [URL] {
        ["KeelRegisters.h", "module.modulemap"].map { registerHeaderFolder.appendingPathComponent($0) }
    }

    /// The kernel's module, which applications import, and the application's own.
    public static let kernelModule = "Keel"
    public static let applicationModule = "App"

    /// `target`: the board's own unless given (the Thumb-2 split route's Linux triple).
    func clangFlags(_ board: Board, target: String? = nil, float: FloatABI = .soft) -> [String] {
        ["--target=\(target ?? board.clangTarget)", "-mcpu=\(Self.clangCPU(board, float))"] + Self.floatOptions(board, float) + ["-fno-pic"]
    }

    /// The port file and what it includes (armv8m includes the armv7m file; every port the
    /// shared special-register routines).
    func portInputs(_ port: URL) -> [URL] {
        [port, firmwareRoot.appendingPathComponent("Port/armv7m/Port.S"),
         firmwareRoot.appendingPathComponent("Port/armv6m/SpecialRegisters.S")]
    }

    func image(_ elf: URL, _ board: Board, _ application: Application, _ layout: RAMLayout, rebuilt: Bool,
               route: CodeRoute) throws(KeelError) -> FirmwareImage {
        let file: ELFFile
        do { file = try ELFFile(contentsOf: elf) } catch { throw .elf(error.description) }
        let flashEnd = board.flash.end
        var flash = 0, data = 0
        for section in file.sections where section.flags.contains(.alloc) {
            let inFlash = UInt64(section.address) >= UInt64(board.flash.origin) && UInt64(section.address) < flashEnd
            if inFlash { flash += Int(section.size) }
            if section.name == ".data" { flash += Int(section.size); data += Int(section.size) }
            if section.name == ".bss" { data += Int(section.size) }
        }
        let nosplit = (try? String(contentsOf: elf.appendingPathExtension(Self.nosplitExtension), encoding: .utf8))?
            .split(separator: "\n").map(String.init) ?? []
        return FirmwareImage(elf: elf, board: board, application: application, layout: layout,
                             flashBytes: flash, ramBytes: Int(layout.stackAreaBytes) + data, rebuilt: rebuilt, route: route,
                             nosplitFunctions: nosplit)
    }

    func swiftFiles(under directory: URL) throws(KeelError) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else {
            throw .buildFailed(step: "find kernel sources", output: "\(directory.path) is missing")
        }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }.sorted { $0.path < $1.path }
    }

    func createDirectory(_ url: URL) throws(KeelError) {
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw .buildFailed(step: "create \(url.path)", output: error.localizedDescription)
        }
    }

    func write(_ text: String, to url: URL) throws(KeelError) {
        do { try text.write(to: url, atomically: true, encoding: .utf8) } catch {
            throw .buildFailed(step: "write \(url.path)", output: error.localizedDescription)
        }
    }
}

/// FNV-1a over every input of a build: a changed byte anywhere means a rebuild.
struct Fingerprint {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) { add(bytes: Array(text.utf8)); add(bytes: [0]) }

    mutating func add(file: URL) {
        add(file.path)
        add(bytes: (try? Array(Data(contentsOf: file))) ?? [0xFF])
    }

    mutating func add(bytes: [UInt8]) {
        for byte in bytes { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
    }

    var hex: String { String(state, radix: 16) }
    var value: UInt64 { state }
}
