// T4, software red zone: a painted band at the bottom of the stack, checked at every switch-out.
//
// Cheap and available on every core, but after the fact: by the time the check runs the
// overflow has already written the band (and possibly below it), and a frame that jumps over
// the band without writing it is missed. Its size is the task's `red_zone` in the manifest.

enum RedZone: StackDetector {
    static var technique: Technique { .redZone }

    static func prepare(_ task: TaskPointer) {
        let bottom = task.pointee.stackBottom
        Memory.fillWords(from: bottom, to: bottom &+ task.pointee.redZoneBytes, with: stackPaintWord)
    }

    static func hasOverflowed(_ task: TaskPointer) -> Bool {
        var address = task.pointee.stackBottom
        let end = address &+ task.pointee.redZoneBytes
        while address < end {
            if Memory.loadWord(address) != stackPaintWord { return true }
            address &+= 4
        }
        return false
    }
}
