// The segment guard: on the M3 (PMSAv7), an MPU region that follows a segmented task's
// active segment, so code without the prologue cannot run off a segment unnoticed.
//
// The prologue stops a checked call before its frame is built; what runs below the limit
// without a check (leaves, the kernel's calls, `__morestack`, an exception frame) is proven
// by `keel check` to fit the slack. Code the proof does not cover (a C-named function, a
// loop writing through a pointer) would write below the segment. On the M33 PSPLIM catches
// the SP half of that; on the M3 this guard catches any access: a 32-byte no-access region
// (the smallest PMSAv7 region) near the bottom of the segment in use, below its slack.
//
// The segment's lowest 64 bytes are the guard's band, under the slack:
//
//   [bottom, +32)     the landing pad: where the hardware stacks the fault's exception frame.
//                     The access that hits the guard has SP at most 32 bytes lower (a store
//                     goes at or above SP), so the 32-byte frame the fault pushes lands here,
//                     in the segment, not in whatever lies below it. (With the region at
//                     the very bottom, every catch pushed its frame below the segment.)
//   [bottom+32, +64)  the no-access region.
//
// A segmented task has no T2 or T3 region, so it lends the guard its first switch region:
// the port loads it at every switch-in, `setLimits` and `__morestack`'s fast paths
// (Port/armv6m/MoreStack.S, GUARD) move it with one RBAR write whenever the active segment
// changes, and the fault path reports a hit as the task's overflow (technique
// `segment-guard`), with the bytes below the segment the frame reached when code jumped SP
// past the guard (then its neighbours are stopped as the overflow's victims).
//
// The band is part of the segment: the limit lies `bytes + slackBytes` above its bottom,
// and neither the slack's paint nor the stack's paint touches it (the kernel is privileged,
// and a no-access region refuses it too).
//
// Compiled into every image, so that its callers (the fault path, painting, the stack
// report) need no conditions of their own: without KEEL_SEGMENT_GUARD it guards no task.

enum SegmentGuard {
    /// Bytes of each segment's band: the landing pad and the region (0: no guard in this image).
    #if KEEL_SEGMENT_GUARD
    static let bytes: UInt32 = 64
    #else
    static let bytes: UInt32 = 0
    #endif

    /// The guard's MPU region: the first switch region on PMSAv7 (LayoutPlanner.pmsav7SwitchRegions,
    /// checked at boot). MoreStack.S's GUARD writes the same RBAR bits (GUARD_RBAR_OFFSET).
    static let regionNumber: UInt32 = 6
    /// RBAR's low bits: VALID (bit 4) and the region number; the base is above them.
    static let regionBits: UInt32 = 0x10 | regionNumber
    static let baseMask: UInt32 = ~0x1F
    /// The landing pad under the region: one exception frame.
    static let landingBytes: UInt32 = 32

    /// True when this image has the guard and `task` is segmented: the guard is on its segments.
    @inline(__always)
    static func covers(_ task: TaskPointer) -> Bool {
        #if KEEL_SEGMENT_GUARD
        SegmentedStacks.chain(task).pointee.maximumBytes != 0
        #else
        false
        #endif
    }

    /// Points `task`'s guard at the segment whose lowest address is `bottom`: its saved
    /// region, and the MPU itself when the task's regions are the ones loaded.
    @inline(__always)
    static func follow(_ task: TaskPointer, segmentBottom bottom: UInt32) {
        #if KEEL_SEGMENT_GUARD
        let base = (bottom &+ landingBytes) | regionBits
        task.pointee.context.switchRegions.base0 = base
        if task == currentTask {
            MPU.regionBase.write(base)  // RBAR with VALID: selects the region and moves it
            MPU.synchronize()
        }
        #endif
    }

    /// The bottom of the segment the task's guard is in now (its active segment).
    static func activeBottom(_ task: TaskPointer) -> UInt32 {
        (task.pointee.context.switchRegions.base0 & baseMask) &- landingBytes
    }

    /// True when an access to `address` (or a failed stacking of the frame at `frame`, when
    /// the address is unknown) was refused by `task`'s segment guard.
    static func refused(_ task: TaskPointer, address: UInt32?, frame: UInt32) -> Bool {
        guard covers(task) else { return false }
        let region = activeBottom(task) &+ landingBytes
        if let address { return address >= region && address < region &+ 32 }
        return frame < region &+ 32 && frame &+ 32 > region  // the 32-byte frame met the region
    }

    /// Names a fault `refused` found in the guard: the task's overflow, caught by the guard.
    /// The fault's frame landed on the pad, in the segment, unless code had moved SP past the
    /// region before its first access: then the part of the frame below the segment was
    /// written (or, if its stacking failed, may have been).
    static func diagnose(_ diagnosis: inout Diagnosis, task: TaskPointer, frame: UInt32) {
        let bottom = activeBottom(task)
        diagnosis.fault.kind = .stackOverflow
        diagnosis.fault.technique = .segmentGuard
        diagnosis.fault.limit = bottom
        diagnosis.fault.evidence = .refused
        guard frame < bottom else { return }
        diagnosis.written = WrittenRange(lowest: frame, top: bottom)
        if !diagnosis.fault.duringStacking {
            diagnosis.written.provenLowest = frame
            diagnosis.written.provenTop = min(frame &+ 32, bottom)
        }
        diagnosis.fault.evidence = diagnosis.fault.duringStacking ? .refusedBelow : .frame
        diagnosis.fault.outsideBytes = diagnosis.writableBelow
        diagnosis.fault.hit = MemoryMap.owner(of: frame)
    }

    /// Where reading a task's paint starts: its stack's bottom, or above the guard's band on a
    /// task the guard covers (task code never writes the band, and the kernel may not read it
    /// while the guard is there).
    @inline(__always)
    static func paintedBottom(_ task: TaskPointer) -> UInt32 {
        covers(task) ? task.pointee.stackBottom &+ bytes : task.pointee.stackBottom
    }
}
