// The RAM layout as a terminal picture: one line per block, top of RAM first (as a memory map
// is drawn), with a bar whose length grows with the block's size. `keel demo` prints it
// beside the run; the SVG (MemoryMapSVG) is the same picture to scale.

import Foundation

public enum MemoryMapText {
    public static func render(_ layout: RAMLayout, width: Int = 28) -> [String] {
        let blocks = layout.blocks.filter { $0.bytes > 0 }
        let largest = Double(blocks.filter { $0.kind != .data }.map(\.bytes).max() ?? 1)
        return blocks.reversed().map { block in
            // Square-root scale: a 32-byte guard stays visible next to a 4 KiB stack.
            let length = block.kind == .data ? width : max(1, Int((Double(block.bytes) / largest).squareRoot() * Double(width)))
            let glyph: Character = switch block.kind {
            case .stack: "#"
            case .guardRegion: "X"
            case .padding, .unused: "."
            case .data: "~"
            case .record: "R"
            case .pool: "S"
            }
            let bar = String(repeating: glyph, count: min(length, width)).padding(toLength: width, withPad: " ", startingAt: 0)
            return hex(block.start) + " |" + bar + "| \(block.label) (\(block.bytes) B)"
        }
    }
}
