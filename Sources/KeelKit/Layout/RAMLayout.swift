// The plan of RAM the planner produces: where every stack and guard is, which MPU regions
// are fixed and which each task's switch-in loads, and what the MPU's rules cost in bytes.
//
// One value serves everything downstream: the linker script and the task table are
// generated from it (so `keel layout` shows exactly what `keel build` links), `keel layout`
// prints it as a table, JSON or an SVG map, and the tests check it against the MPU's rules.

public struct StackPlacement: Sendable, Equatable, Codable {
    public var name: String
    /// Lowest address of the stack (inclusive).
    public var bottom: UInt32
    /// Usable bytes: what was asked for plus any padding the MPU's rules added.
    public var bytes: UInt32
    /// Bytes the manifest asked for.
    public var requestedBytes: UInt32
    /// Bytes of the no-access guard directly below `bottom` (T3, or the handler stack's guard).
    public var guardBytes: UInt32
    /// PMSAv7 T2: the size of the power-of-two region whose enabled eighths are this stack; 0 otherwise.
    public var regionBytes: UInt32

    public init(name: String, bottom: UInt32, bytes: UInt32, requestedBytes: UInt32? = nil, guardBytes: UInt32 = 0,
                regionBytes: UInt32 = 0) {
        self.name = name
        self.bottom = bottom
        self.bytes = bytes
        self.requestedBytes = requestedBytes ?? bytes
        self.guardBytes = guardBytes
        self.regionBytes = regionBytes
    }

    public var top: UInt32 { bottom &+ bytes }
    public var guardBottom: UInt32 { bottom &- guardBytes }
    public var paddingBytes: UInt32 { bytes &- requestedBytes }
}

/// One stretch of RAM, for tables and the memory map.
public struct MemoryBlock: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case stack, padding, guardRegion = "guard", unused, data, record
        /// The segment pool segmented stacks grow into.
        case pool
    }
    public var kind: Kind
    public var label: String
    public var start: UInt32
    public var bytes: UInt32
    public var end: UInt64 { UInt64(start) + UInt64(bytes) }
}

/// What the MPU's rules cost, in bytes of RAM nobody can use for anything else.
public struct LayoutWaste: Sendable, Equatable, Codable {
    /// Bytes added to stacks to meet region sizes or the next guard's alignment (PMSAv8: every
    /// stack is on the 32-byte granule). The task may use them; nothing else can.
    public var padding: UInt32 = 0
    /// Gaps left between stacks to meet region alignment.
    public var alignment: UInt32 = 0
    /// No-access bytes past the last T2 stack because the covering region ends on a sub-region boundary.
    public var coverage: UInt32 = 0
    /// What rounding every MPU-protected stack up to a power of two (and aligning it) would
    /// cost: the rule of a PMSAv7 MPU without sub-regions (Zephyr's
    /// CONFIG_MPU_REQUIRES_POWER_OF_TWO_ALIGNMENT). Shown on PMSAv8 too, as the comparison.
    public var powerOfTwoBaseline: UInt32 = 0

    public var total: UInt32 { padding + alignment + coverage }
}

/// The register words one task's switch-in writes: two regions, (RBAR, RASR/RLAR) each.
public struct SwitchRegions: Sendable, Equatable, Codable {
    /// The enabled regions, for reports (disabled slots are not listed).
    public var regions: [MPURegion]
    /// Exactly four words, written in one store to RBAR, RASR/RLAR, RBAR_A1, RASR_A1/RLAR_A1.
    public var words: [UInt32]
}

/// One memory pool's storage in .bss: its header (waiters mask first) under the symbol
/// `keel_pool_<name>`, its blocks right after under `keel_blocks_<name>`.
public struct MemoryPoolStorage: Sendable, Equatable {
    public var name: String
    public var headerBytes: Int
    public var blockBytes: Int
    public var bytes: Int { headerBytes + blockBytes }
    public var symbol: String { WaitObjects.poolPrefix + name }
    public var blocksSymbol: String { Self.blocksPrefix + name }
    public static let blocksPrefix = "keel_blocks_"
}

public struct RAMLayout: Sendable, Equatable {
    public var board: String
    public var mpu: MPUKind
    public var handlerStack: StackPlacement
    /// In the same order as the application's tasks.
    public var taskStacks: [StackPlacement]
    public var idleStack: StackPlacement
    /// The pool segmented tasks take segments from, below the idle stack; nil when no task is segmented.
    public var segmentPool: StackPlacement?
    /// The memory pools' storage (name, bytes), which the linker script reserves in .bss.
    public var memoryPools: [MemoryPoolStorage] = []
    /// Regions programmed once at boot, lowest number first.
    public var fixedRegions: [MPURegion]
    /// Per task, in the application's order: what its switch-in loads.
    public var switchRegions: [SwitchRegions]
    public var idleSwitchRegions: SwitchRegions
    /// The region number the first switch slot is written to (PMSAv8: MPU_RNR, set once).
    public var firstSwitchRegion: Int
    /// Lowest address any task stack (the idle task's included) or its guard uses.
    public var stacksStart: UInt32
    /// One past the highest address any task stack uses.
    public var stacksEnd: UInt32
    /// .data, .bss and the heap live in [dataStart, dataEnd).
    public var dataStart: UInt32
    public var dataEnd: UInt32
    /// The fault record that survives a reset: at the top of RAM, where nothing is loaded or cleared.
    public var resetRecord: UInt32
    public var ramStart: UInt32
    public var ramEnd: UInt64
    public var waste: LayoutWaste

    public static let resetRecordBytes: UInt32 = 128

    /// The RAM the linker script reserves for stacks and guards: everything below the data.
    public var stackAreaStart: UInt32 { min(stacksStart, handlerStack.guardBottom) }
    public var stackAreaBytes: UInt32 { dataStart &- stackAreaStart }

    /// Every stack, the idle stack and the handler stack.
    public var allStacks: [StackPlacement] { taskStacks + [idleStack, handlerStack] }

    /// RAM in address order: stacks, guards, padding, gaps, data and the record.
    public var blocks: [MemoryBlock] {
        var blocks: [MemoryBlock] = []
        for stack in allStacks {
            if stack.guardBytes > 0 {
                blocks.append(MemoryBlock(kind: .guardRegion, label: "guard of \(stack.name)", start: stack.guardBottom, bytes: stack.guardBytes))
            }
            blocks.append(MemoryBlock(kind: .stack, label: stack.name, start: stack.bottom, bytes: stack.requestedBytes))
            if stack.paddingBytes > 0 {
                blocks.append(MemoryBlock(kind: .padding, label: "padding of \(stack.name)", start: stack.bottom &+ stack.requestedBytes, bytes: stack.paddingBytes))
            }
        }
        if let pool = segmentPool {
            blocks.append(MemoryBlock(kind: .pool, label: "segment pool", start: pool.bottom, bytes: pool.bytes))
        }
        blocks.append(MemoryBlock(kind: .data, label: "data, bss, heap", start: dataStart, bytes: dataEnd &- dataStart))
        blocks.append(MemoryBlock(kind: .record, label: "reset record", start: resetRecord, bytes: Self.resetRecordBytes))
        blocks.sort { $0.start < $1.start }
        // Whatever lies between is unused: alignment gaps, or no-access coverage past the T2 stacks.
        var filled: [MemoryBlock] = []
        var cursor = UInt64(ramStart)
        for block in blocks {
            if UInt64(block.start) > cursor {
                filled.append(MemoryBlock(kind: .unused, label: "unused", start: UInt32(cursor), bytes: UInt32(UInt64(block.start) - cursor)))
            }
            filled.append(block)
            cursor = max(cursor, block.end)
        }
        return filled
    }
}
