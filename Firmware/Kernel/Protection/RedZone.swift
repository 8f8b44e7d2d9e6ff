// T4, software red zone: a painted band at the bottom of the stack, checked at every switch-out.
//
// Cheap and available on every core, but after the fact: by the time the check runs the
// overflow has already written the band (and possibly below it), and a frame that jumps over
// the band without writing it is missed. The band is a multiple of 16 bytes, compared four
// words at a time; a task without T4 has a zero-byte band, so the check needs no flag test.

enum RedZone: StackDetector {
    static var technique: Technique { .redZone }

    static func prepare(_ task: TaskPointer) {
        Memory.fillWords(from: task.pointee.stackBottom, to: task.pointee.redZoneEnd, with: stackPaintWord)
    }

    @inline(__always)
    static func hasOverflowed(_ task: TaskPointer) -> Bool {
        var address = task.pointee.stackBottom
        let end = task.pointee.redZoneEnd
        var difference: UInt32 = 0
        while address < end {
            difference |= (Memory.loadWord(address) ^ stackPaintWord) | (Memory.loadWord(address &+ 4) ^ stackPaintWord)
                | (Memory.loadWord(address &+ 8) ^ stackPaintWord) | (Memory.loadWord(address &+ 12) ^ stackPaintWord)
            address &+= 16
        }
        return difference != 0
    }
}
