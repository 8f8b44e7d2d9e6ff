// Property tests of the layout planner: random task sets on both MPU boards, checked against
// the MPU's rules and against what each task's switch-in must allow and forbid.
//
// The oracle is independent of the planner's own reasoning: it takes the region words the
// planner emits and asks the MPU model (highest region wins on PMSAv7, overlap faults on
// PMSAv8, default map elsewhere) what a write to each stack's first and last byte does.

import Foundation
@testable import KeelKit
import PropertyBased
import Testing

struct LayoutPlannerPropertyTests {
    /// One random task: stack 256...8192 bytes, one of four protection sets, a guard request.
    static let task = zip(Gen.int(in: 32...1024), Gen.int(in: 0...3), Gen.int(in: 0...16)).map { units, choice, guardUnits in
        let protections: [Set<Protection>] = [[.paint], [.paint, .mpuRegion], [.paint, .mpuGuard], [.paint, .mpuRegion, .mpuGuard]]
        return (units * 8, protections[choice], guardUnits * 32)
    }
    static let taskSet = task.array(of: 1...12)
    static let boardName = Gen.element(of: ["mps2-an385", "mps2-an505"])

    static func application(_ tasks: [(Int, Set<Protection>, Int)]) -> Application {
        Application(name: "random", directory: URL(fileURLWithPath: "/tmp"), sources: [], tickHertz: 1000, handlerStackBytes: 2048,
                    tasks: tasks.enumerated().map { index, task in
                        TaskSpec(name: "t\(index)", entry: "t\(index)", priority: 1, stackBytes: task.0,
                                 protections: task.1, guardBytes: task.2)
                    })
    }

    @Test func everyPlanMeetsTheMPUsRulesAndProtectsWhatItSays() async throws {
        await propertyCheck(count: 300, input: Self.taskSet, Self.boardName) { tasks, boardName in
            let board = try BoardCatalog.board(named: boardName ?? "mps2-an385")
            let application = Self.application(tasks)
            let layout = try LayoutPlanner.plan(application, on: board)
            Self.checkPlacement(layout, application, board)
            Self.checkRegions(layout, application, board)
            Self.checkWaste(layout, application, board)
        }
    }

    /// Nothing overlaps, everything is in RAM, every stack got at least what it asked for.
    static func checkPlacement(_ layout: RAMLayout, _ application: Application, _ board: Board) {
        var extents: [(String, Range<UInt64>)] = layout.allStacks.map { ($0.name, UInt64($0.guardBottom)..<UInt64($0.top)) }
        extents.append(("data", UInt64(layout.dataStart)..<UInt64(layout.dataEnd)))
        extents.append(("record", UInt64(layout.resetRecord)..<UInt64(layout.resetRecord) + UInt64(RAMLayout.resetRecordBytes)))
        extents.sort { $0.1.lowerBound < $1.1.lowerBound }
        for (a, b) in zip(extents, extents.dropFirst()) {
            #expect(a.1.upperBound <= b.1.lowerBound, "\(a.0) overlaps \(b.0)")
        }
        for (name, range) in extents {
            #expect(range.lowerBound >= UInt64(board.ram.origin) && range.upperBound <= board.ram.end, "\(name) outside RAM")
        }
        for (task, stack) in zip(application.tasks, layout.taskStacks) {
            #expect(stack.bytes >= UInt32(task.stackBytes))
            #expect(stack.bottom % 8 == 0 && stack.top % 8 == 0, "AAPCS alignment of \(task.name)")
            if task.protections.contains(.mpuGuard) && !(board.mpu == .pmsav7 && task.protections.contains(.mpuRegion)) {
                #expect(stack.guardBytes >= max(UInt32(task.guardBytes), LayoutPlanner.basicFrameBytes), "guard of \(task.name)")
            }
        }
    }

    /// Every region is legal; in each task's configuration its own stack and the handler stack
    /// are writable, and T2/T3 make the bytes below the stack (T2: every other stack) unwritable.
    static func checkRegions(_ layout: RAMLayout, _ application: Application, _ board: Board) {
        #expect(layout.fixedRegions.count + 2 <= board.mpuRegions)
        for region in layout.fixedRegions + layout.switchRegions.flatMap(\.regions) {
            #expect(MPUModel.violation(region, mpu: board.mpu) == nil, "\(region.purpose): \(MPUModel.violation(region, mpu: board.mpu) ?? "")")
        }
        for (index, task) in application.tasks.enumerated() {
            let stack = layout.taskStacks[index]
            let regions = layout.fixedRegions + layout.switchRegions[index].regions
            #expect(layout.switchRegions[index].words.count == 4)
            if board.mpu == .pmsav8 {
                let ranges = regions.flatMap(\.covered).sorted { $0.lowerBound < $1.lowerBound }
                for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound <= b.lowerBound, "PMSAv8 regions overlap") }
            }
            func access(_ address: UInt32) -> MPUAccess { MPUModel.access(at: UInt64(address), regions: regions, mpu: board.mpu) }
            #expect(access(stack.bottom) == .readWrite && access(stack.top - 1) == .readWrite, "\(task.name) cannot use its stack")
            #expect(access(layout.handlerStack.bottom) == .readWrite && access(layout.handlerStack.top - 1) == .readWrite)
            if layout.handlerStack.guardBytes > 0 { #expect(access(layout.handlerStack.guardBottom) == .noAccess) }
            if task.protections.contains(.mpuRegion) || task.protections.contains(.mpuGuard) {
                #expect(access(stack.bottom - 1) == .noAccess, "below \(task.name) is writable")
            }
            if task.protections.contains(.mpuRegion) {
                // PMSAv7 blocks the other T2 stacks (the rest would need power-of-two regions
                // to be usable by their own tasks); PMSAv8 blocks every other stack.
                let blocked = board.mpu == .pmsav8 ? layout.taskStacks + [layout.idleStack]
                    : zip(application.tasks, layout.taskStacks).filter { $0.0.protections.contains(.mpuRegion) }.map(\.1)
                for other in blocked where other.name != stack.name {
                    #expect(access(other.bottom) == .noAccess && access(other.top - 1) == .noAccess,
                            "\(task.name) (T2) can write \(other.name)")
                }
            }
        }
    }

    /// The stated bounds: a T2 stack on PMSAv7 wastes less than an eighth of its region (the
    /// smallest that holds it, or one or two sizes up when that packs better); every
    /// other MPU stack less than its granule (PMSAv8: 32 bytes; a PMSAv7 guard: its size).
    static func checkWaste(_ layout: RAMLayout, _ application: Application, _ board: Board) {
        for (task, stack) in zip(application.tasks, layout.taskStacks) {
            let padding = stack.bytes - stack.requestedBytes
            if board.mpu == .pmsav7 && task.protections.contains(.mpuRegion) {
                #expect(stack.regionBytes >= PMSAv7.regionSize(for: UInt32(task.stackBytes)))
                #expect(padding < stack.regionBytes / 8, "\(task.name) padding \(padding) in a \(stack.regionBytes)-byte region")
            } else if board.mpu == .pmsav7 && task.protections.contains(.mpuGuard) {
                #expect(padding < stack.guardBytes)
            } else {
                #expect(padding < PMSAv8.granule)
            }
        }
        #expect(layout.waste.padding == zip(application.tasks, layout.taskStacks).reduce(0) { $0 + $1.1.bytes - $1.1.requestedBytes })
    }

    /// Requests that cannot fit are the layout error, never a crash or a silent plan.
    @Test func impossibleRequestsAreAClearError() async {
        let huge = zip(Gen.int(in: 1...4), Gen.int(in: 0...3)).map { count, choice in
            Array(repeating: (1 << 20, [[.paint], [.paint, .mpuRegion], [.paint, .mpuGuard], [.paint, .mpuRegion]][choice] as Set<Protection>, 0),
                  count: count + 4)
        }
        await propertyCheck(count: 50, input: huge, Self.boardName) { tasks, boardName in
            let board = try BoardCatalog.board(named: boardName ?? "mps2-an385")
            #expect(throws: KeelError.self) { try LayoutPlanner.plan(Self.application(tasks), on: board) }
            do {
                _ = try LayoutPlanner.plan(Self.application(tasks), on: board)
            } catch let error as KeelError {
                #expect(error.exitCode == 2)
                #expect(error.description.hasPrefix("impossible layout:"))
            } catch {
                Issue.record("not a KeelError: \(error)")
            }
        }
    }
}
