// The memory protection unit: the fixed regions programmed at boot, and the switch to turn it
// off while the kernel reads every stack.
//
// The regions themselves are computed on the host by the layout planner (`keel layout`
// shows them); the kernel only writes the words it was given. Fixed regions guard the
// handler stack (PMSAv7) and, for T2, block every task stack; the two switch regions are
// written by the port at every switch-in (LOAD_SWITCH_REGIONS in Port.S).
// The MPU runs with PRIVDEFENA: where no region applies, the default memory map does.
// Reference: ARMv7-M B3.5 (PMSAv7), ARMv8-M B10 (PMSAv8); same register addresses.

/// One region as the kernel writes it: RBAR, then RASR (PMSAv7) or RLAR (PMSAv8).
@_spi(Build) public struct MPURegionWords {
    var number: UInt32
    var base: UInt32
    var attributes: UInt32

    @_spi(Build) public init(number: UInt32, base: UInt32, attributes: UInt32) {
        self.number = number; self.base = base; self.attributes = attributes
    }
}

enum MPU {
    /// MPU_TYPE: DREGION (bits 15:8) is how many regions the MPU has.
    static let type = Register(address: 0xE000_ED90)
    static let control = Register(address: 0xE000_ED94)
    static let regionNumber = Register(address: 0xE000_ED98)
    static let regionBase = Register(address: 0xE000_ED9C)
    /// RASR on PMSAv7, RLAR on PMSAv8.
    static let regionAttributes = Register(address: 0xE000_EDA0)
    /// PMSAv8 MAIR0: memory attributes for RLAR.AttrIndx.
    static let attributeIndirection0 = Register(address: 0xE000_EDC0)

    static let enable: UInt32 = 1 << 0
    static let privilegedDefaultMap: UInt32 = 1 << 2

    /// Programs the fixed regions, prepares the switch regions and turns the MPU on.
    static func configure(fixed: UnsafePointer<MPURegionWords>, count: Int, firstSwitchRegion: UInt32) {
        #if KEEL_MPU
        control.write(0)
        #if KEEL_ARMV8M
        attributeIndirection0.write(0xFF)  // attribute 0: normal memory, write-back (SRAM)
        #endif
        for index in 0..<count {
            let region = fixed[index]
            regionNumber.write(region.number)
            regionBase.write(region.base)
            regionAttributes.write(region.attributes)
        }
        // PMSAv8 switch-in writes RBAR/RLAR and their alias 1: regions RNR and RNR+1. Nothing
        // else writes RNR after this (PMSAv7 selects the region in each RBAR write instead).
        regionNumber.write(firstSwitchRegion)
        synchronize()
        control.write(enable | privilegedDefaultMap)
        synchronize()
        #endif
    }

    /// Runs `body` with the MPU off and interrupts masked: for kernel code that must read
    /// every task's stack (the shutdown report, a test's check of its neighbours).
    @inline(never)
    static func withProtectionOff<Result>(_ body: () -> Result) -> Result {
        #if KEEL_MPU
        let interrupts = Interrupts.mask()
        let saved = control.read()
        control.write(0)
        synchronize()
        let result = body()
        control.write(saved)
        synchronize()
        Interrupts.restore(interrupts)
        return result
        #else
        return body()
        #endif
    }

    @inline(__always)
    static func synchronize() {
        dataSynchronizationBarrier(0xF)
        instructionSynchronizationBarrier(0xF)
    }
}

/// The MPU as the fault found it: the regions that decided every write of the running task
/// since its switch-in. Captured before the kernel touches a region, and judged by the pure
/// `MPUPermission` (Contract/), which the host tests on the same encodings. Kept in one static,
/// not in each diagnosis: the fault path runs on the handler stack, which is small on the M0,
/// and only one fault is diagnosed at a time (a fault inside the fault path resets at once).
enum MPUSnapshot {
    nonisolated(unsafe) static var enabled = false
    nonisolated(unsafe) static var count = 0
    #if KEEL_MPU
    nonisolated(unsafe) static var regions = InlineArray<16, MPURegionRegisters>(repeating: MPURegionRegisters(base: 0, attributes: 0))
    #endif

    static var architecture: MPUArchitecture {
        #if KEEL_MPU && KEEL_ARMV8M
        .pmsav8
        #elseif KEEL_MPU
        .pmsav7
        #else
        .none
        #endif
    }

    /// Reads every region through RNR, then puts RNR back: the PMSAv8 switch-in relies on it.
    static func capture() {
        #if KEEL_MPU
        enabled = MPU.control.read() & MPU.enable != 0
        count = min(Int((MPU.type.read() >> 8) & 0xFF), 16)  // MPU_TYPE.DREGION
        let selected = MPU.regionNumber.read()
        for number in 0..<count {
            MPU.regionNumber.write(UInt32(number))
            regions[number] = MPURegionRegisters(base: MPU.regionBase.read(), attributes: MPU.regionAttributes.read())
        }
        MPU.regionNumber.write(selected)
        #endif
    }

    /// Whether a privileged write to `address` passed the MPU as it was at the capture.
    static func permitsWrite(_ address: UInt32) -> Bool {
        #if KEEL_MPU
        MPUPermission.permitsPrivilegedWrite(address, architecture: architecture, enabled: enabled, regionCount: count) {
            regions[$0]
        }
        #else
        true
        #endif
    }
}
