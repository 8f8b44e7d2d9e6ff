// A memory map of RAM as one self-contained SVG, for `keel layout --svg`.
//
// One horizontal bar, addresses growing left to right. The stacks, guards, padding and gaps
// are drawn to scale (a segment too narrow to see is widened to a few pixels); after them
// data/bss/heap and the reset record get a fixed width and say they are not to scale, since
// the data can be megabytes next to stacks of a few hundred bytes. A label that does not fit
// inside its segment goes above the bar, rotated and spread apart from its neighbours with a
// leader line; the address ruler below the bar works the same way, so text never piles up.
// Nothing external is referenced (no fonts, scripts or images): the file renders anywhere.

import Foundation

public enum MemoryMapSVG {
    static let width = 1200.0
    static let margin = 30.0
    static let dataWidth = 170.0
    static let recordWidth = 90.0
    static let minimumSegmentWidth = 4.0
    static let barHeight = 64.0
    static let fontSize = 11.0
    /// The advance of one character of the monospace font, for fitting text.
    static let characterWidth = fontSize * 0.62
    /// Distance between neighbouring rotated labels (a line of text plus a little air).
    static let rotatedLabelSpacing = fontSize + 3
    /// Height of the slanted part of a leader line, from a segment to its spread-out label.
    static let leaderRise = 20.0

    /// One block of RAM and where it is drawn.
    struct Segment {
        var block: MemoryBlock
        var x: Double
        var width: Double
        var toScale: Bool
        var center: Double { x + width / 2 }
        var end: Double { x + width }
    }

    struct Style {
        var fill: String
        var text: String
    }

    public static func render(_ layout: RAMLayout, title: String) -> String {
        let segments = place(layout.blocks)
        let inside = segments.map { fitsInside($0) }
        let outsideLabels = segments.indices.filter { !inside[$0] }.map { (index: $0, text: outsideLabel(segments[$0].block)) }

        let labelAreaHeight = (outsideLabels.map { textWidth($0.text) }.max() ?? 0) + leaderRise + 20
        let barTop = 64 + labelAreaHeight
        let barBottom = barTop + barHeight
        let rulerHeight = textWidth(hex(UInt32(0))) + leaderRise + 24
        let legendTop = barBottom + rulerHeight + 10
        let height = legendTop + 56

        var svg: [String] = [
            "<?xml version='1.0' encoding='UTF-8'?>",
            "<svg xmlns='http://www.w3.org/2000/svg' width='\(number(width))' height='\(number(height))' "
                + "viewBox='0 0 \(number(width)) \(number(height))' font-family='monospace' font-size='\(number(fontSize))'>",
            "<title>\(escape(title))</title>",
            definitions,
            "<rect width='100%' height='100%' fill='#ffffff'/>",
            text(title, x: margin, y: 26, attributes: "font-family='sans-serif' font-size='17' font-weight='bold'"),
            text(subtitle(layout), x: margin, y: 46, attributes: "fill='#444444'"),
        ]
        svg += segments.enumerated().map { index, segment in
            drawSegment(segment, barTop: barTop, labelInside: inside[index])
        }
        svg += drawOutsideLabels(outsideLabels.map { (segments[$0.index], $0.text) }, barTop: barTop)
        svg += drawRuler(segments, ramEnd: layout.ramEnd, barTop: barTop, barBottom: barBottom)
        svg += drawLegend(top: legendTop, waste: layout.waste, hasPool: layout.segmentPool != nil)
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    // MARK: Placing segments

    /// Lays the blocks out left to right: data and the record at a fixed width, everything
    /// else in proportion to its bytes, with no segment narrower than `minimumSegmentWidth`.
    static func place(_ blocks: [MemoryBlock]) -> [Segment] {
        func fixedWidth(_ block: MemoryBlock) -> Double? {
            switch block.kind {
            case .data: dataWidth
            case .record: recordWidth
            default: nil
            }
        }
        let fixedTotal = blocks.compactMap(fixedWidth).reduce(0, +)
        let scaledWidths = proportionalWidths(blocks.filter { fixedWidth($0) == nil }.map { Double($0.bytes) },
                                              total: width - 2 * margin - fixedTotal)
        var segments: [Segment] = []
        var x = margin
        var scaledIndex = 0
        for block in blocks {
            let segmentWidth: Double
            if let fixed = fixedWidth(block) {
                segmentWidth = fixed
            } else {
                segmentWidth = scaledWidths[scaledIndex]
                scaledIndex += 1
            }
            segments.append(Segment(block: block, x: x, width: segmentWidth, toScale: fixedWidth(block) == nil))
            x += segmentWidth
        }
        return segments
    }

    /// Widths in proportion to `sizes` adding up to `total`, none below the minimum: segments
    /// that would be narrower get the minimum and the rest share what is left, until stable.
    static func proportionalWidths(_ sizes: [Double], total: Double) -> [Double] {
        var widened = Set<Int>()
        while true {
            let free = sizes.indices.filter { !widened.contains($0) }
            let remaining = total - Double(widened.count) * minimumSegmentWidth
            let freeBytes = free.map { sizes[$0] }.reduce(0, +)
            let scale = freeBytes > 0 ? remaining / freeBytes : 0
            let tooNarrow = free.filter { sizes[$0] * scale < minimumSegmentWidth }
            if tooNarrow.isEmpty || tooNarrow.count == free.count {
                return sizes.indices.map { widened.contains($0) || tooNarrow.contains($0) ? minimumSegmentWidth : sizes[$0] * scale }
            }
            widened.formUnion(tooNarrow)
        }
    }

    // MARK: Drawing

    static let styles: [MemoryBlock.Kind: Style] = [
        .stack: Style(fill: "#4e79a7", text: "#ffffff"),
        .guardRegion: Style(fill: "url(#guard-hatch)", text: "#ffffff"),
        .padding: Style(fill: "#a8a8a8", text: "#000000"),
        .unused: Style(fill: "#f1f1f1", text: "#333333"),
        .data: Style(fill: "#59a14f", text: "#ffffff"),
        .record: Style(fill: "#b07aa1", text: "#ffffff"),
        .pool: Style(fill: "#f28e2b", text: "#ffffff"),
    ]

    static let definitions = """
        <defs>
          <pattern id="guard-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" fill="#e15759"/>
            <rect width="2.5" height="6" fill="#9c1c1f"/>
          </pattern>
        </defs>
        """

    static func drawSegment(_ segment: Segment, barTop: Double, labelInside: Bool) -> String {
        let style = styles[segment.block.kind]!
        var parts = [
            "<rect x='\(number(segment.x))' y='\(number(barTop))' width='\(number(segment.width))' height='\(number(barHeight))' "
                + "fill='\(style.fill)' stroke='#333333' stroke-width='0.6'><title>\(escape(tooltip(segment.block)))</title></rect>",
        ]
        if !segment.toScale && segment.block.kind == .data {
            // An axis break: this segment is not drawn to scale.
            let x = segment.x + 10
            parts.append("<path d='M\(number(x - 4)) \(number(barTop - 4)) l8 \(number(barHeight + 8)) m6 0 l-8 -\(number(barHeight + 8))' "
                + "stroke='#ffffff' stroke-width='2.5' fill='none'/>")
        }
        if labelInside {
            let lines = insideLines(segment.block)
            let lineHeight = fontSize + 3
            let firstBaseline = barTop + barHeight / 2 - lineHeight * Double(lines.count - 1) / 2 + fontSize * 0.35
            for (index, line) in lines.enumerated() {
                parts.append(text(line, x: segment.center, y: firstBaseline + Double(index) * lineHeight,
                                  attributes: "text-anchor='middle' fill='\(style.text)'" + (index == 0 ? " font-weight='bold'" : "")))
            }
        }
        return parts.joined(separator: "\n")
    }

    /// Rotated labels above the bar, reading upwards, each joined to its segment by a leader line.
    static func drawOutsideLabels(_ labels: [(segment: Segment, text: String)], barTop: Double) -> [String] {
        let positions = spread(labels.map(\.segment.center), spacing: rotatedLabelSpacing,
                               within: margin + 6...width - margin - 6)
        return zip(labels, positions).map { label, x in
            let bend = barTop - 4 - leaderRise
            let baseline = x + fontSize * 0.35
            return "<path d='M\(number(label.segment.center)) \(number(barTop)) L\(number(label.segment.center)) \(number(barTop - 4)) L\(number(x)) \(number(bend)) L\(number(x)) \(number(bend - 4))' "
                + "stroke='#666666' stroke-width='0.8' fill='none'/>" + "\n"
                + text(label.text, x: baseline, y: bend - 8, attributes: "transform='rotate(-90 \(number(baseline)) \(number(bend - 8)))'")
        }
    }

    /// Ticks at every segment boundary and the address there, rotated and spread like the labels.
    static func drawRuler(_ segments: [Segment], ramEnd: UInt64, barTop: Double, barBottom: Double) -> [String] {
        var boundaries = segments.map { (x: $0.x, address: UInt64($0.block.start)) }
        if let last = segments.last { boundaries.append((x: last.end, address: ramEnd)) }
        let positions = spread(boundaries.map(\.x), spacing: rotatedLabelSpacing, within: margin...width - margin)
        var parts = ["<line x1='\(number(margin))' y1='\(number(barBottom))' x2='\(number(width - margin))' y2='\(number(barBottom))' stroke='#333333' stroke-width='1'/>"]
        for (boundary, x) in zip(boundaries, positions) {
            let bend = barBottom + 6 + leaderRise
            let baseline = x + fontSize * 0.35
            parts.append("<path d='M\(number(boundary.x)) \(number(barBottom)) L\(number(boundary.x)) \(number(barBottom + 6)) L\(number(x)) \(number(bend)) L\(number(x)) \(number(bend + 4))' "
                + "stroke='#333333' stroke-width='0.8' fill='none'/>")
            parts.append(text(hex(boundary.address), x: baseline, y: bend + 8,
                              attributes: "text-anchor='end' fill='#333333' transform='rotate(-90 \(number(baseline)) \(number(bend + 8)))'"))
        }
        return parts
    }

    static func drawLegend(top: Double, waste: LayoutWaste, hasPool: Bool) -> [String] {
        let entries: [(MemoryBlock.Kind, String)] = [
            (.stack, "stack"), (.guardRegion, "guard (no access)"), (.padding, "padding (stack rounded up for the MPU)"),
            (.unused, "unused (alignment gap or MPU coverage)"), (.data, "data, bss, heap"), (.record, "reset record"),
        ] + (hasPool ? [(.pool, "segment pool")] : [])
        var parts: [String] = []
        var x = margin
        for (kind, name) in entries {
            parts.append("<rect x='\(number(x))' y='\(number(top))' width='14' height='14' fill='\(styles[kind]!.fill)' stroke='#333333' stroke-width='0.6'/>")
            parts.append(text(name, x: x + 20, y: top + 11))
            x += 20 + textWidth(name) + 22
        }
        let cost = "MPU cost: padding \(waste.padding) + alignment \(waste.alignment) + coverage \(waste.coverage) = \(waste.total) bytes"
            + " (plain power-of-two rounding would waste \(waste.powerOfTwoBaseline) bytes)"
        parts.append(text(cost, x: margin, y: top + 38, attributes: "fill='#444444'"))
        return parts
    }

    // MARK: Labels

    static func subtitle(_ layout: RAMLayout) -> String {
        let mpu = switch layout.mpu {
        case .none: "no MPU"
        case .pmsav7: "PMSAv7 MPU"
        case .pmsav8: "PMSAv8 MPU"
        }
        return "\(mpu); RAM \(hex(layout.ramStart))-\(hex(layout.ramEnd)); address grows to the right. "
            + "Stacks and gaps to scale (each at least \(Int(minimumSegmentWidth)) px); data and reset record not to scale."
    }

    static func insideLines(_ block: MemoryBlock) -> [String] {
        block.kind == .data ? [block.label, "\(block.bytes) B", "(not to scale)"] : [block.label, "\(block.bytes) B"]
    }

    static func outsideLabel(_ block: MemoryBlock) -> String { "\(block.label), \(block.bytes) B" }

    static func tooltip(_ block: MemoryBlock) -> String {
        "\(block.label): \(hex(block.start))-\(hex(block.end)), \(block.bytes) bytes"
    }

    static func fitsInside(_ segment: Segment) -> Bool {
        insideLines(segment.block).allSatisfy { textWidth($0) + 8 <= segment.width }
    }

    /// Positions near `wanted` (ascending) at least `spacing` apart inside `range`: neighbours
    /// that would be too close form a group centred on where its members want to be.
    static func spread(_ wanted: [Double], spacing: Double, within range: ClosedRange<Double>) -> [Double] {
        guard wanted.count > 1 else { return wanted }
        let gap = min(spacing, (range.upperBound - range.lowerBound) / Double(wanted.count - 1))
        var groups: [(start: Double, members: [Int])] = []
        func clamped(_ start: Double, count: Int) -> Double {
            max(range.lowerBound, min(start, range.upperBound - Double(count - 1) * gap))
        }
        for index in wanted.indices {
            groups.append((start: clamped(wanted[index], count: 1), members: [index]))
            while groups.count > 1 {
                let last = groups[groups.count - 1], previous = groups[groups.count - 2]
                guard previous.start + Double(previous.members.count) * gap > last.start else { break }
                let members = previous.members + last.members
                let center = members.map { wanted[$0] }.reduce(0, +) / Double(members.count)
                groups.removeLast(2)
                groups.append((start: clamped(center - Double(members.count - 1) * gap / 2, count: members.count), members: members))
            }
        }
        var positions = wanted
        for group in groups {
            for (offset, member) in group.members.enumerated() { positions[member] = group.start + Double(offset) * gap }
        }
        return positions
    }

    // MARK: SVG text

    static func text(_ content: String, x: Double, y: Double, attributes: String = "") -> String {
        "<text x='\(number(x))' y='\(number(y))'\(attributes.isEmpty ? "" : " " + attributes)>\(escape(content))</text>"
    }

    static func textWidth(_ content: String) -> Double { Double(content.count) * characterWidth }

    static func number(_ value: Double) -> String { String(format: "%.1f", value) }


    static func escape(_ content: String) -> String {
        var escaped = ""
        for character in content {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
