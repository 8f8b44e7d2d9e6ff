// Memory pools: every block handed out once, none twice; an empty pool refuses at once or
// after exactly its timeout; a release wakes the most urgent waiter, from a task or from an
// interrupt handler; what a task wrote into its blocks is still there; and the two misuses a
// pool can see, a block released twice and an address that is not a block, trap in the task
// that did it, with the reason and the line.
//
// `records` has 100-byte blocks (stored 104 apart: a block's index takes a division);
// `buffers` 128-byte blocks (a shift); `cells` has 40 (more than one word of bits). `owner`
// runs the checks and prints one line per check, `waiter` (more urgent) waits on an empty
// pool, `doubler` and `stranger` misuse a pool and are stopped; `owner` ends the run.

import Keel

func ownerTask() {
    // Every block of `records`: distinct, 8-byte aligned, `stride` apart, then nothing.
    var blocks = InlineArray<5, UInt>(repeating: 0)
    for index in 0..<5 {
        guard let block = records.tryAllocate() else { print("pools: records ran out at \(index)"); return }
        blocks[index] = UInt(bitPattern: block)
        fill(block, bytes: 100, with: UInt8(0xA0 + index))
    }
    var distinct = true, aligned = true
    for i in 0..<5 {
        if blocks[i] % 8 != 0 { aligned = false }
        for j in 0..<5 where i != j && (blocks[i] == blocks[j] || max(blocks[i], blocks[j]) - min(blocks[i], blocks[j]) < 104) { distinct = false }
    }
    print("pools: records gave \(5) blocks distinct=\(distinct) aligned=\(aligned) then \(records.tryAllocate() == nil ? "nil" : "a block") available \(records.available)")

    // An empty pool: noWait fails at once, a timeout after exactly its ticks.
    Keel.sleep(ticks: 1)
    var start = Keel.ticks
    var failed = false
    do { _ = try records.allocate(timeout: .noWait) } catch { failed = true }
    print("pools: no-wait \(failed ? "timed-out" : "got") after \(Keel.ticks &- start) of 0")
    Keel.sleep(ticks: 1)
    start = Keel.ticks
    failed = false
    do { _ = try records.allocate(timeout: .ticks(5)) } catch { failed = true }
    print("pools: timeout \(failed ? "timed-out" : "got") after \(Keel.ticks &- start) of 5")

    // A release makes the block available again; the next allocation gets it back.
    let second = UnsafeMutableRawPointer(bitPattern: blocks[1]).unsafelyUnwrapped
    records.release(second)
    let again = records.tryAllocate()
    print("pools: released one, available then \(records.available), got it back \(again.map { UInt(bitPattern: $0) == blocks[1] } ?? false)")
    fill(second, bytes: 100, with: 0xA1)

    // A release wakes the more urgent waiter at once (it runs before `owner` goes on).
    var held = InlineArray<4, UInt>(repeating: 0)
    for index in 0..<4 { held[index] = UInt(bitPattern: buffers.tryAllocate().unsafelyUnwrapped) }
    waiterMayStart = true
    Keel.sleep(ticks: 2)  // `waiter` now waits on the empty `buffers`
    order.append("release")
    buffers.release(UnsafeMutableRawPointer(bitPattern: held[3]).unsafelyUnwrapped)
    order.append("owner")
    print("pools: task release woke the waiter first: \(order.text)")

    // A release in an interrupt handler wakes it the same way.
    order.clear()
    handlerBlock = held[2]
    Keel.sleep(ticks: 2)  // `waiter` waits again
    Keel.attachInterrupt(3) {
        // A handler may allocate (it never waits): the pool is empty, so nil.
        order.append(buffers.tryAllocate() == nil ? "handler-nil" : "handler-got")
        buffers.release(UnsafeMutableRawPointer(bitPattern: handlerBlock).unsafelyUnwrapped)
        order.append("handler")
    }
    Keel.triggerInterrupt(3)
    order.append("owner")
    print("pools: handler release woke the waiter after the handler: \(order.text)")

    // Nothing written into one block reached another.
    var intact = true
    for index in 0..<5 where !holds(UnsafeMutableRawPointer(bitPattern: blocks[index]).unsafelyUnwrapped, bytes: 100, UInt8(0xA0 + index)) {
        intact = false
    }
    print("pools: every records block still holds its pattern: \(intact)")

    // More than 32 blocks (two levels of bits): still the lowest free block first.
    let first = UInt(bitPattern: cells.tryAllocate().unsafelyUnwrapped)
    var inOrder = true
    for index in 1..<40 where cells.tryAllocate().map({ UInt(bitPattern: $0) }) != first + UInt(index * cells.stride) { inOrder = false }
    let full = cells.tryAllocate() == nil
    cells.release(UnsafeMutableRawPointer(bitPattern: first + UInt(35 * cells.stride)).unsafelyUnwrapped)
    cells.release(UnsafeMutableRawPointer(bitPattern: first + UInt(3 * cells.stride)).unsafelyUnwrapped)
    let retaken = [cells.tryAllocate(), cells.tryAllocate(), cells.tryAllocate()].map { block in
        block.map { "\((UInt(bitPattern: $0) - first) / UInt(cells.stride))" } ?? "nil"
    }
    print("pools: cells gave 40 in order=\(inOrder) then \(full ? "nil" : "a block"); after releasing 35 and 3: \(retaken[0]) \(retaken[1]) \(retaken[2])")

    // One block for `doubler` to release twice.
    records.release(UnsafeMutableRawPointer(bitPattern: blocks[0]).unsafelyUnwrapped)
    misuseMayStart = true
    Keel.sleep(ticks: 5)
    print("pools: doubler \(Keel.task(Keel.taskIndex(named: "doubler") ?? 0).wasKilled ? "stopped" : "running"), "
        + "stranger \(Keel.task(Keel.taskIndex(named: "stranger") ?? 0).wasKilled ? "stopped" : "running"), records available \(records.available)")
    Keel.shutdown(code: 0)
}

nonisolated(unsafe) var waiterMayStart = false
nonisolated(unsafe) var misuseMayStart = false
nonisolated(unsafe) var handlerBlock: UInt = 0

func waiterTask() {
    while !waiterMayStart { Keel.sleep(ticks: 1) }
    for _ in 0..<2 {
        let block = try! buffers.allocate()
        order.append("waiter")
        fill(block, bytes: 128, with: 0x5A)
        buffers.release(block)
        _ = buffers.tryAllocate()  // keep the pool empty for the next round
    }
    Keel.sleep(ticks: 1_000_000)
}

/// Releases its block twice: the second release traps.
func doublerTask() {
    while !misuseMayStart { Keel.sleep(ticks: 1) }
    guard let block = records.tryAllocate() else { print("pools: doubler found records empty"); return }
    records.release(block)
    records.release(block)
    print("pools: doubler released twice without a trap")
}

/// Releases an address in its own stack: not a block of the pool.
func strangerTask() {
    while !misuseMayStart { Keel.sleep(ticks: 1) }
    var local: UInt64 = 7
    withUnsafeMutablePointer(to: &local) { records.release(UnsafeMutableRawPointer($0)) }
    print("pools: stranger released a foreign pointer without a trap")
}

/// The order things happened in, as text: "release waiter owner".
struct Order {
    var words = InlineArray<8, StaticString>(repeating: "")
    var count = 0
    mutating func append(_ word: StaticString) { if count < 8 { words[count] = word; count += 1 } }
    mutating func clear() { count = 0 }
    var text: String {
        var text = ""
        for index in 0..<count { text += (index == 0 ? "" : " ") + words[index].description }
        return text
    }
}
nonisolated(unsafe) var order = Order()

func fill(_ block: UnsafeMutableRawPointer, bytes: Int, with value: UInt8) {
    for offset in 0..<bytes { block.storeBytes(of: value, toByteOffset: offset, as: UInt8.self) }
}

func holds(_ block: UnsafeMutableRawPointer, bytes: Int, _ value: UInt8) -> Bool {
    for offset in 0..<bytes where block.load(fromByteOffset: offset, as: UInt8.self) != value { return false }
    return true
}
