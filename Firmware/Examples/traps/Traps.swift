// Swift runtime traps in tasks: each task makes one mistake that the compiler turns into a
// trap instruction, and `keel run` names it from the image's debug info: the reason, the file
// and line, and a backtrace of the task's calls. `referee` ends the run once all five stopped.
// The image keeps no precondition or fatalError message (Embedded Swift at -O drops them):
// `keel run` shows the trap's source line instead.

import Keel

/// Zero at run time, unknown to the compiler (the tick count stays far below 2^31), so no
/// check below is folded away.
@inline(never)
func runtimeZero() -> Int { Int(Keel.ticks >> 31) }

/// The mean of `count` readings that add up to `total`: divides by zero when there are none.
@inline(never)
func average(total: Int, count: Int) -> Int {
    total / count
}

/// A frame that stays live across the call (so the call is not a tail call): the backtrace
/// shows `summarize` between the task and `average`.
@inline(never)
func summarize(_ readings: Int) -> Int {
    let total = readings &* 7
    return average(total: total, count: readings) &+ total
}

func dividerTask() {
    Keel.sleep(ticks: 1)
    print("divider: \(summarize(runtimeZero()))")
}

/// A calibration entry by sensor number: only sensor 7 has one.
@inline(never)
func calibration(of sensor: Int) -> Int? {
    sensor == 7 ? 42 : nil
}

func unwrapperTask() {
    Keel.sleep(ticks: 2)
    let offset = calibration(of: runtimeZero())!
    print("unwrapper: \(offset)")
}

@inline(never)
func reading(_ readings: [Int], at index: Int) -> Int {
    readings[index]
}

func indexerTask() {
    Keel.sleep(ticks: 3)
    let readings = [3, 1, 4]
    print("indexer: \(reading(readings, at: readings.count + runtimeZero()))")
}

@inline(never)
func setLevel(_ level: Int) -> Int {
    precondition(level < 100, "level must be below 100")
    return level &* 2
}

func checkerTask() {
    Keel.sleep(ticks: 4)
    print("checker: \(setLevel(100 + runtimeZero()))")
}

@inline(never)
func mustCalibrate(_ sensor: Int) -> Int {
    if sensor == 0 { fatalError("sensor 0 is not calibrated") }
    return sensor
}

func panickerTask() {
    Keel.sleep(ticks: 5)
    print("panicker: \(mustCalibrate(runtimeZero()))")
}

func refereeTask() {
    while true {
        var running = 0
        for name: StaticString in ["divider", "unwrapper", "indexer", "checker", "panicker"] {
            if let index = Keel.taskIndex(named: name), Keel.task(index).isRunning { running += 1 }
        }
        if running == 0 { break }
        Keel.sleep(ticks: 2)
    }
    print("referee: all five stopped, the run goes on")
    Keel.shutdown(code: 0)
}
