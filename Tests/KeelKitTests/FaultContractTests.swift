// The pure parts of the kernel's fault path, on the host: the same Contract/ files the kernel
// compiles decide whether the MPU let a write through and whether a neighbour was harmed.

@_spi(Contract) import KeelContract
@testable import KeelKit
import XCTest

final class FaultContractTests: XCTestCase {
    // PMSAv7 RASR: ENABLE, SIZE = log2(bytes) - 1, AP in bits 26:24, SRD in bits 15:8.
    func rasr(bytes: UInt32, access: UInt32, disabledSubregions: UInt32 = 0) -> UInt32 {
        1 | (UInt32(bytes.trailingZeroBitCount - 1) << 1) | (access << 24) | (disabledSubregions << 8)
    }

    /// The T2 layout on the M3: a no-access block over every T2 stack (region 0), the running
    /// task's stack given back read-write by region 7, which wins by its number.
    func testPMSAv7HighestRegionWinsAndNoAccessRefuses() {
        let regions: [Int: MPURegionRegisters] = [
            0: MPURegionRegisters(base: 0x2000_0000, attributes: rasr(bytes: 0x8000, access: 0b000)),
            7: MPURegionRegisters(base: 0x2000_2000, attributes: rasr(bytes: 0x400, access: 0b011)),
        ]
        func permits(_ address: UInt32, enabled: Bool = true) -> Bool {
            MPUPermission.permitsPrivilegedWrite(address, architecture: .pmsav7, enabled: enabled, regionCount: 8) {
                regions[$0] ?? MPURegionRegisters(base: 0, attributes: 0)
            }
        }
        XCTAssertTrue(permits(0x2000_2000), "the running stack")
        XCTAssertTrue(permits(0x2000_23FC), "its last word")
        XCTAssertFalse(permits(0x2000_1FFC), "the word below it, in the block")
        XCTAssertFalse(permits(0x2000_2400), "the word above it, in the block")
        XCTAssertTrue(permits(0x2000_8000), "past the block: the default map (PRIVDEFENA)")
        XCTAssertTrue(permits(0x2000_1FFC, enabled: false), "MPU off")
        XCTAssertTrue(MPUPermission.permitsPrivilegedWrite(0x2000_1FFC, architecture: .none, enabled: true, regionCount: 0) { _ in
            MPURegionRegisters(base: 0, attributes: 0)
        })
    }

    /// A disabled sub-region does not match: the address falls to the regions below it.
    func testPMSAv7DisabledSubregionFallsThrough() {
        let block = MPURegionRegisters(base: 0x2000_0000, attributes: rasr(bytes: 0x800, access: 0b000, disabledSubregions: 0b0000_0001))
        func permits(_ address: UInt32) -> Bool {
            MPUPermission.permitsPrivilegedWrite(address, architecture: .pmsav7, enabled: true, regionCount: 1) { _ in block }
        }
        XCTAssertTrue(permits(0x2000_00FC), "sub-region 0 (256 bytes) is disabled")
        XCTAssertFalse(permits(0x2000_0100), "sub-region 1 is not")
    }

    /// PMSAv8: base/limit, read-only AP, and two matching regions fault.
    func testPMSAv8ReadOnlyAndOverlap() {
        // RBAR: base | AP[2:1] << 1; RLAR: limit | EN.
        let regions = [
            MPURegionRegisters(base: 0x3800_0000 | (0b10 << 1), attributes: 0x3800_0FE0 | 1),  // read-only below the running stack
            MPURegionRegisters(base: 0x3800_1000 | (0b00 << 1), attributes: 0x3800_13E0 | 1),  // the running stack, read-write
            MPURegionRegisters(base: 0x3800_1400 | (0b00 << 1), attributes: 0x3800_17E0 | 1),
            MPURegionRegisters(base: 0x3800_1600 | (0b00 << 1), attributes: 0x3800_17E0 | 1),  // overlaps the one before
        ]
        func permits(_ address: UInt32) -> Bool {
            MPUPermission.permitsPrivilegedWrite(address, architecture: .pmsav8, enabled: true, regionCount: regions.count) { regions[$0] }
        }
        XCTAssertFalse(permits(0x3800_0FFC), "read-only")
        XCTAssertTrue(permits(0x3800_1000))
        XCTAssertTrue(permits(0x3800_1400))
        XCTAssertFalse(permits(0x3800_1600), "two regions match: a fault")
        XCTAssertTrue(permits(0x3800_2000), "no region: the default map")
    }

    func testWritableBytesCountsGranules() {
        XCTAssertEqual(MPUPermission.writableBytes(from: 0x100, to: 0x180) { _ in true }, 0x80)
        XCTAssertEqual(MPUPermission.writableBytes(from: 0x104, to: 0x150) { $0 >= 0x120 }, 0x30, "0x120..<0x150")
        XCTAssertEqual(MPUPermission.writableBytes(from: 0x100, to: 0x100) { _ in true }, 0)
    }

    /// The bystander below a culprit: its stack [0x1000, 0x1400), saved SP at 0x1300.
    let span = StackSpan(guardBottom: 0x1000, bottom: 0x1000, top: 0x1400, liveBottom: 0x1300)

    func testEverythingRefusedIsUntouched() {
        let written = WrittenRange(lowest: 0x1200, top: 0x1400, provenLowest: 0x1200, provenTop: 0x1220)
        XCTAssertEqual(StackHarm.judge(span, written: written) { _ in false }, .untouched, "the MPU refused every write")
        XCTAssertEqual(StackHarm.judge(span, written: WrittenRange(lowest: 0x1400, top: 0x1500)) { _ in true }, .untouched, "above it")
    }

    func testOnlyDeadBytesAreSpared() {
        // The overflow reached its top? No: its stack lies above the culprit's reach except
        // [0x1000, 0x1100), all below its saved SP.
        let written = WrittenRange(lowest: 0x0F00, top: 0x1100)
        XCTAssertEqual(StackHarm.judge(span, written: written) { _ in true }, .spared(bytes: 0x100, lowest: 0x1000, top: 0x1100))
    }

    func testLiveBytesInReachAreHarmProvenOrPossible() {
        XCTAssertEqual(StackHarm.judge(span, written: WrittenRange(lowest: 0x1340, top: 0x1400, provenLowest: 0x1340, provenTop: 0x1360)) { _ in true },
                       .harmed(bytes: 0xC0, proven: true))
        XCTAssertEqual(StackHarm.judge(span, written: WrittenRange(lowest: 0x1340, top: 0x1400, provenLowest: 0x0F00, provenTop: 0x0F20)) { _ in true },
                       .harmed(bytes: 0xC0, proven: false), "only the range: ambiguous, stopped, said so")
        // Only the live top is writable: still harm.
        XCTAssertEqual(StackHarm.judge(span, written: WrittenRange(lowest: 0x1000, top: 0x1400)) { $0 >= 0x13E0 },
                       .harmed(bytes: 0x20, proven: false))
        // A task that will not run again has nothing live: what was in reach is dead.
        let stopped = StackSpan(guardBottom: 0x1000, bottom: 0x1000, top: 0x1400, liveBottom: 0x1400)
        XCTAssertEqual(StackHarm.judge(stopped, written: WrittenRange(lowest: 0x1340, top: 0x1400)) { _ in true },
                       .spared(bytes: 0xC0, lowest: 0x1340, top: 0x1400))
    }

    /// The host's names are the kernel's: every technique the kernel can report has words on
    /// the host, and the CFSR decoding uses the kernel's bit names.
    func testHostNamesComeFromTheContract() {
        for technique in Technique.allCases {
            XCTAssertNotNil(RunReport.techniqueNames["\(technique.reportName)"], "\(technique)")
        }
        XCTAssertEqual(RunReport.decodeCFSR(0x0000_0012), " (DACCVIOL MSTKERR)")
        XCTAssertEqual(RunReport.decodeCFSR(0x0200_0000), " (DIVBYZERO)")
        XCTAssertTrue(FaultStatus(rawValue: 0x10).stackingFailed)
        XCTAssertTrue(FaultStatus(rawValue: 0x1000).stackingFailed)
        XCTAssertTrue(FaultStatus(rawValue: 0x02).refusedByMPU)
        for evidence in WriteEvidence.allCases where evidence != .none {
            var fault = FaultRecord(task: "t", kind: "stack-overflow", technique: "mpu-region", pc: 0, sp: 0, limit: 0, cfsr: 0, hfsr: 0,
                                    mmfar: 0, bfar: 0, action: "kill")
            fault.evidence = "\(evidence.reportName)"
            fault.outside = 32
            XCTAssertNotNil(RunReport.writtenDescription(fault), "\(evidence)")
        }
    }
}
