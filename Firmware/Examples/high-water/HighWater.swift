// A task that fills a 600-byte local buffer and reports its high-water mark before printing.
//
// The mark is read before anything else touches the stack (print needs far more than 600
// bytes), so it is the buffer plus the frames of the calls that hold it.

import Keel

let bufferWords = 150  // 600 bytes

func fillerTask() {
    let checksum = fill()
    let used = Keel.highWaterMark
    print("keel-test:buffer=\(bufferWords * 4) hwm=\(used) checksum=\(checksum)")
}

@inline(never)
func fill() -> UInt32 {
    var buffer = InlineArray<150, UInt32>(repeating: 0)
    return withUnsafeMutablePointer(to: &buffer) { pointer in
        let words = UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: UInt32.self)
        for index in 0..<bufferWords { words[index] = UInt32(index) &* 2_654_435_761 }
        return sum(words, bufferWords)
    }
}

@inline(never)
func sum(_ words: UnsafeMutablePointer<UInt32>, _ count: Int) -> UInt32 {
    var total: UInt32 = 0
    for index in 0..<count { total &+= words[index] }
    return total
}
