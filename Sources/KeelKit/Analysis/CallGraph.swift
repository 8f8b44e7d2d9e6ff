// Call graph of a linked Cortex-M image: every function, its frame, and what it calls.
//
// Why from the image: the linked code is what runs. Inlining, tail calls, `.cold` parts,
// calls into assembly and libgcc, and the split-stack prologue's `bl __morestack` only
// exist there. Each function symbol's code is decoded (`ThumbInstruction`), skipping the
// literal pools that `$d` mapping symbols mark. A `bl` to another function is a call; a
// `b` to another function is a tail call (counted with the caller's frame still on the
// stack, which is safe whether or not the frame was popped first); a branch or `bl`
// inside the function is a branch. Jumps through a register are kept as sites for the
// analysis to resolve or report.

public struct CallGraph: Sendable {
    /// Where a function's frame size comes from.
    public enum Frame: Sendable, Equatable {
        /// From `.stack_sizes`: the compiler's own figure.
        case compiler(UInt32)
        /// From `HelperTable` (Keel's assembly).
        case table(UInt32)
        /// Read from the pushes and SP subtractions in the code (no compiler figure).
        case scanned(UInt32)
        /// The code sets SP from a register and nothing vouches for it: a frame of unknown size.
        case dynamic(site: UInt32)

        public var bytes: UInt32? {
            switch self {
            case .compiler(let n), .table(let n), .scanned(let n): n
            case .dynamic: nil
            }
        }

        public var source: String {
            switch self {
            case .compiler: "compiler"
            case .table: "table"
            case .scanned: "scanned"
            case .dynamic: "dynamic"
            }
        }
    }

    public struct Call: Sendable, Equatable {
        public var site: UInt32
        public var callee: Int
        public var isTail: Bool
    }

    public struct RegisterJump: Sendable, Equatable {
        public var site: UInt32
        public var register: UInt8
        /// `blx` (a call) rather than `bx`/`mov pc`/`ldr pc` (a jump, as in a tail call).
        public var isCall: Bool
        /// A call through a class's destroy slot (ClassDestroyCall.swift): it reaches only
        /// `classDestroyers`.
        public var isClassDestroy = false
    }

    public struct Function: Sendable {
        public var name: String
        public var address: UInt32
        public var size: UInt32
        public var frame: Frame
        /// The largest SP decrease along the code, read from the instructions.
        public var scannedBytes: UInt32
        public var calls: [Call]
        public var registerJumps: [RegisterJump]
        /// Calls or branches to addresses that are in no function (reported, never ignored).
        public var strayTargets: [(site: UInt32, target: UInt32)]
        /// The first instruction that sets SP from a register (a computed frame, or a stack switch).
        public var stackFromRegisterSite: UInt32?
        /// Facts from `HelperTable` when the function is listed there.
        public var helper: HelperFacts?
        /// The split-stack prologue the function starts with, if any (SplitPrologue.swift).
        public var splitPrologue: SplitPrologue? = nil
        /// The first FP (or vector) instruction in the code, if any: from it on, an exception
        /// taken from the context running it stacks an extended frame.
        public var floatingPointSite: UInt32? = nil
        /// The first `MSR BASEPRI_MAX`: the kernel's critical section, entered inline
        /// (Firmware/Port/include/KeelRegisters.h) in the kernel or in an inlined Keel call.
        public var maskingSite: UInt32? = nil
    }

    public private(set) var functions: [Function] = []
    /// Functions a helper calls on the handler stack (`HelperFacts.callsOnHandlerStack`):
    /// no edge from the helper; the handler stack's analysis counts their trees.
    public private(set) var handlerStackCalls: [Int] = []
    private var indexByAddress: [UInt32: Int] = [:]
    private var indexByName: [String: Int] = [:]
    /// Functions whose address is stored somewhere as data (a literal pool, a table): the
    /// only functions a jump through a register can reach.
    public private(set) var addressTaken: Set<Int> = []
    /// The functions in the destroy slot of every class metadata record in the image.
    public private(set) var classDestroyers: Set<Int> = []
    /// The address-taken functions whose address is also somewhere other than a class
    /// metadata record (code, a literal pool, other data). A function whose address is only in
    /// metadata fills a vtable slot: a method call reaches it, but no code holds it as a
    /// value it could pass on (to `DeviceInterrupts.attach`, say).
    public private(set) var addressTakenOutsideClassMetadata: Set<Int> = []
    /// For an address-taken function, the functions whose code takes it (a movw/movt pair, or
    /// a literal pool inside them): what attaches a handler is then known, not only that one is.
    public private(set) var takenBy: [Int: Set<Int>] = [:]
    /// Exception number → handler function, from the vector table at the start of flash.
    public private(set) var vectors: [Int: Int] = [:]
    /// True when the image has a `.stack_sizes` section.
    public private(set) var hasCompilerFrames = false

    public init(elf: ELFFile, helpers: [String: HelperFacts] = HelperTable.keel) throws(ELFError) {
        let code = elf.sections.filter { $0.flags.contains(.execInstr) && $0.flags.contains(.alloc) && $0.hasFileContents }
        var sectionBytes: [Int: [UInt8]] = [:]
        for section in code { sectionBytes[section.index] = Array(try elf.contents(of: section)) }
        func section(of address: UInt32) -> ELFSection? {
            code.first { address >= $0.address && UInt64(address) < UInt64($0.address) + UInt64($0.size) }
        }

        // Data ranges inside code, from the ARM mapping symbols ($d starts data; $t/$a code).
        // Only the code sections' own: an image with debug info has `$d` symbols in its
        // .debug_* sections too, whose values are offsets there that can fall inside .text.
        let codeSections = Set(code.map { UInt16(truncatingIfNeeded: $0.index) })
        var mapping: [(address: UInt32, isData: Bool)] = []
        for symbol in elf.symbols where symbol.type == .notype && symbol.name.hasPrefix("$")
            && codeSections.contains(symbol.sectionIndex) {
            let kind = symbol.name.dropFirst().prefix { $0 != "." }
            if kind == "d" { mapping.append((symbol.value, true)) }
            if kind == "t" || kind == "a" { mapping.append((symbol.value, false)) }
        }
        mapping.sort { $0.address < $1.address }
        func isData(_ address: UInt32) -> Bool {
            var low = 0, high = mapping.count
            while low < high {
                let middle = (low + high) / 2
                if mapping[middle].address <= address { low = middle + 1 } else { high = middle }
            }
            return low > 0 && mapping[low - 1].isData
        }
        func dataStarts(in range: Range<UInt32>) -> Bool {
            mapping.contains { $0.isData && range.contains($0.address) }
        }

        // Functions: FUNC symbols in code, one per address (global names first), sized by
        // their symbol or, for assembly without `.size`, up to the next function.
        var starts: [UInt32: ELFSymbol] = [:]
        for symbol in elf.symbols where symbol.type == .function && symbol.isDefined && section(of: symbol.address) != nil {
            if let existing = starts[symbol.address], Self.rank(existing) >= Self.rank(symbol) { continue }
            starts[symbol.address] = symbol
        }
        // Code the compiler described but the symbol table does not name (LLVM's private
        // functions, such as outlined copies): a function too, named by its address.
        let compilerFrames = (try? elf.stackSizes()) ?? [:]
        for address in compilerFrames.keys where starts[address] == nil && section(of: address) != nil {
            starts[address] = ELFSymbol(index: 0, name: "code@0x" + String(address, radix: 16), value: address | 1,
                                        address: address, isThumb: true, size: 0, type: .function, binding: .local,
                                        visibility: 0, sectionIndex: 0)
        }
        let ordered = starts.keys.sorted()
        hasCompilerFrames = elf.section(named: ".stack_sizes") != nil
        for (position, address) in ordered.enumerated() {
            let symbol = starts[address]!
            let home = section(of: address)!
            let sectionEnd = home.address &+ home.size
            let next = position + 1 < ordered.count ? min(ordered[position + 1], sectionEnd) : sectionEnd
            let size = symbol.size > 0 ? min(symbol.size, sectionEnd &- address, next &- address) : next &- address
            indexByAddress[address] = functions.count
            indexByName[symbol.name] = functions.count
            functions.append(Function(name: symbol.name, address: address, size: size, frame: .scanned(0),
                                      scannedBytes: 0, calls: [], registerJumps: [], strayTargets: [],
                                      stackFromRegisterSite: nil, helper: helpers[symbol.name]))
        }
        // Aliases (several names at one address) resolve to the kept function.
        for symbol in elf.symbols where symbol.type == .function && symbol.isDefined {
            if indexByName[symbol.name] == nil, let index = indexByAddress[symbol.address] { indexByName[symbol.name] = index }
        }

        // Decode each function.
        var materialized: [(address: UInt32, by: Int)] = []
        for index in functions.indices {
            let function = functions[index]
            let home = section(of: function.address)!
            let bytes = sectionBytes[home.index]!
            func halfword(_ address: UInt32) -> UInt16? {
                let offset = Int(address &- home.address)
                guard offset >= 0, offset + 1 < bytes.count else { return nil }
                return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
            }
            var calls: [Call] = []
            var jumps: [RegisterJump] = []
            var strays: [(UInt32, UInt32)] = []
            var depth: UInt32 = 0, deepest: UInt32 = 0
            var stackFromRegister: UInt32? = nil
            var lowHalves: [UInt8: UInt16] = [:]
            var steps: [ClassDestroyCall.Step] = []
            var jumpSteps: [Int] = []   // each register jump's place in `steps`
            var branchTargets = Set<UInt32>()
            var hasJumpTable = false
            var floatingPointSite: UInt32? = nil
            var maskingSite: UInt32? = nil
            let end = function.address &+ function.size
            var pc = function.address
            while pc < end {
                if isData(pc) { pc &+= 2; continue }
                guard let first = halfword(pc) else { break }
                let second = ThumbInstruction.isWide(first) && pc &+ 2 < end ? halfword(pc &+ 2) : nil
                let (instruction, length) = ThumbInstruction.decode(first, second, at: pc)
                if length == 4 && floatingPointSite == nil && ThumbInstruction.isFloatingPoint(first) { floatingPointSite = pc }
                if length == 4, maskingSite == nil, let second, ThumbInstruction.isMaskAtCeiling(first, second) { maskingSite = pc }
                steps.append(ClassDestroyCall.Step(address: pc, first: first, second: length == 4 ? second : nil))
                defer { pc &+= length }
                let inside = function.address..<end
                switch instruction {
                case .call(let target), .branch(let target, _):
                    let isTail: Bool
                    if case .call = instruction { isTail = false } else { isTail = true }
                    // Inside the function: a branch (Thumb-1 `bl` is also a far branch), except
                    // a `bl` to its own start, which is a recursion.
                    if inside.contains(target) && (isTail || target != function.address) { branchTargets.insert(target); continue }
                    if let callee = Self.function(containing: target, ordered: ordered, functions: functions, indexByAddress: indexByAddress) {
                        calls.append(Call(site: pc, callee: callee, isTail: isTail))
                    } else {
                        strays.append((pc, target))
                    }
                case .indirectCall(let register):
                    jumps.append(RegisterJump(site: pc, register: register, isCall: true))
                    jumpSteps.append(steps.count - 1)
                case .indirectBranch(let register):
                    // Thumb-1 jump tables are `mov pc, rN` with the table right after (as data).
                    if dataStarts(in: pc &+ 2..<pc &+ 8) { continue }
                    jumps.append(RegisterJump(site: pc, register: register, isCall: false))
                    jumpSteps.append(steps.count - 1)
                case .stackDown(let bytes):
                    depth &+= bytes
                    deepest = max(deepest, depth)
                case .stackUp(let bytes):
                    depth = bytes > depth ? 0 : depth &- bytes
                case .stackFromRegister:
                    if stackFromRegister == nil { stackFromRegister = pc }
                case .moveHalf(let register, let value, let top):
                    if !top { lowHalves[register] = value; continue }
                    if let low = lowHalves[register] {
                        let word = UInt32(value) << 16 | UInt32(low)
                        if word & 1 == 1 { materialized.append((word & ~1, index)) }
                    }
                case .compareBranch(let target):
                    branchTargets.insert(target)
                case .jumpTable:
                    hasJumpTable = true
                case .functionReturn, .supervisorCall, .other:
                    break
                }
            }
            // A jump table's targets are unknown: no site in such a function is straight-line for sure.
            if !hasJumpTable {
                for (number, site) in jumpSteps.enumerated() {
                    jumps[number].isClassDestroy = ClassDestroyCall.matches(steps, site: site, register: jumps[number].register,
                                                                            branchTargets: branchTargets)
                }
            }
            // A helper's calls on the handler stack are not on its caller's stack.
            let elsewhere = Set((function.helper?.callsOnHandlerStack ?? []).compactMap { indexByName[$0] })
            for callee in elsewhere where calls.contains(where: { $0.callee == callee }) && !handlerStackCalls.contains(callee) {
                handlerStackCalls.append(callee)
            }
            functions[index].calls = calls.filter { !elsewhere.contains($0.callee) }
            functions[index].registerJumps = jumps
            functions[index].strayTargets = strays
            functions[index].scannedBytes = deepest
            functions[index].stackFromRegisterSite = stackFromRegister
            functions[index].floatingPointSite = floatingPointSite
            functions[index].maskingSite = maskingSite
            var opening: [UInt16] = []
            while opening.count < 8, UInt32(opening.count * 2) < function.size, let half = halfword(function.address &+ UInt32(opening.count * 2)) {
                opening.append(half)
            }
            functions[index].splitPrologue = SplitPrologue.recognise(opening)
            if let bytes = compilerFrames[function.address] {
                functions[index].frame = .compiler(bytes)
            } else if let helper = function.helper, let bytes = helper.bytes {
                functions[index].frame = .table(bytes)
            } else if let site = stackFromRegister, function.helper?.stackSwitch == nil {
                functions[index].frame = .dynamic(site: site)
            } else {
                functions[index].frame = .scanned(deepest)
            }
        }

        // Address-taken functions: a function's address with the Thumb bit set, built by a
        // movw/movt pair or stored as a word in data (literal pools, .rodata, .data). The
        // same pass reads the destroy slot of class metadata (Swift `...N` data symbols).
        for (address, by) in materialized {
            if let index = indexByAddress[address] { addressTaken.insert(index); takenBy[index, default: []].insert(by) }
        }
        let metadata = elf.symbols.filter { symbol in
            symbol.isDefined && symbol.type == .object && Symbolizer.isSwiftMangled(symbol.name) && symbol.name.hasSuffix("N")
        }
        let destroySlots = Set(metadata.map { $0.address &+ ClassDestroyCall.destroySlot })
        // The words of every metadata record (a few hundred bytes in all).
        var metadataWords = Set<UInt32>()
        for record in metadata where record.size < 0x1_0000 {
            for offset in stride(from: UInt32(0), to: UInt32(record.size), by: 4) { metadataWords.insert(record.address &+ offset) }
        }
        addressTakenOutsideClassMetadata = addressTaken
        for section in elf.sections where section.flags.contains(.alloc) && section.hasFileContents {
            let bytes = Array(try elf.contents(of: section))
            let isCode = section.flags.contains(.execInstr)
            var offset = 0
            while offset + 4 <= bytes.count {
                let address = section.address &+ UInt32(offset)
                if !isCode || isData(address) {
                    let word = Self.word(bytes, at: offset)
                    if word & 1 == 1, let index = indexByAddress[word & ~1] {
                        addressTaken.insert(index)
                        if isCode, let by = Self.function(containing: address, ordered: ordered, functions: functions,
                                                          indexByAddress: indexByAddress) {
                            takenBy[index, default: []].insert(by)
                        }
                        if !isCode && destroySlots.contains(address) { classDestroyers.insert(index) }
                        if isCode || !metadataWords.contains(address) { addressTakenOutsideClassMetadata.insert(index) }
                    }
                }
                offset += isCode ? 2 : 4
            }
        }

        // The vector table: the first allocated section at the lowest flash address.
        if let table = elf.section(named: ".vectors") {
            let bytes = Array(try elf.contents(of: table))
            var number = 1
            while number * 4 + 4 <= bytes.count {
                let word = Self.word(bytes, at: number * 4)
                if word & 1 == 1, let index = indexByAddress[word & ~1] { vectors[number] = index }
                number += 1
            }
        }
    }

    /// The function named `name` (any of its aliases).
    public func index(named name: String) -> Int? { indexByName[name] }

    /// The function that starts at `address`.
    public func index(at address: UInt32) -> Int? { indexByAddress[address & ~1] }

    /// Functions whose name satisfies `matches`.
    public func indices(where matches: (String) -> Bool) -> [Int] {
        functions.indices.filter { matches(functions[$0].name) }
    }

    private static func function(containing target: UInt32, ordered: [UInt32], functions: [Function],
                                 indexByAddress: [UInt32: Int]) -> Int? {
        var low = 0, high = ordered.count
        while low < high {
            let middle = (low + high) / 2
            if ordered[middle] <= target { low = middle + 1 } else { high = middle }
        }
        guard low > 0, let index = indexByAddress[ordered[low - 1]] else { return nil }
        let function = functions[index]
        return target < function.address &+ function.size ? index : nil
    }

    /// Little-endian word at `offset` (the caller has checked the bounds).
    private static func word(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    /// Global names beat weak beat local (as in `ELFFile`); Swift's C entry points
    /// (`@_cdecl`) beat mangled names.
    private static func rank(_ symbol: ELFSymbol) -> Int {
        ELFFile.bindingRank(symbol.binding) * 2 + (Symbolizer.isSwiftMangled(symbol.name) ? 0 : 1)
    }
}
