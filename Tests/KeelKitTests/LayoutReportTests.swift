// `keel layout`'s three renderings of one planned layout (mps2-an385, T2 and T3 tasks): the
// text names everything, the JSON says what the plan says, the SVG is well-formed XML with a
// label for every stack.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import KeelKit
import XCTest

final class LayoutReportTests: XCTestCase {
    let board = try! BoardCatalog.board(named: "mps2-an385")

    let application = Application(
        name: "report", directory: URL(fileURLWithPath: "/tmp"), sources: [], tickHertz: 1000, handlerStackBytes: 1024,
        tasks: [
            TaskSpec(name: "sensor", entry: "sensorTask", priority: 3, stackBytes: 1000, protections: [.paint, .mpuRegion]),
            TaskSpec(name: "logger", entry: "loggerTask", priority: 2, stackBytes: 3000, protections: [.paint, .mpuRegion]),
            TaskSpec(name: "watchdog", entry: "watchdogTask", priority: 2, stackBytes: 704, protections: [.paint, .mpuGuard],
                     guardBytes: 96),
            TaskSpec(name: "plain", entry: "plainTask", priority: 1, stackBytes: 512, protections: [.paint]),
        ])

    func plannedLayout() throws -> RAMLayout { try LayoutPlanner.plan(application, on: board) }

    func testTextNamesEveryTaskAndEveryFixedRegion() throws {
        let layout = try plannedLayout()
        XCTAssertFalse(layout.fixedRegions.isEmpty, "T2 stacks and the handler guard need regions at boot")
        let text = LayoutReport.text(layout, application: application, board: board)
        for task in application.tasks {
            XCTAssertTrue(text.contains(task.name), "no \(task.name) in:\n\(text)")
        }
        for region in layout.fixedRegions {
            XCTAssertTrue(text.contains(region.purpose), "no '\(region.purpose)' in:\n\(text)")
        }
        XCTAssertTrue(text.contains("plain power-of-two rounding would waste \(layout.waste.powerOfTwoBaseline) bytes"), text)
    }

    func testJSONStacksAreTheLayoutsStacks() throws {
        let layout = try plannedLayout()
        let json = LayoutReport.json(layout, application: application, board: board)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["board"] as? String, "mps2-an385")
        let stacks = try XCTUnwrap(object["stacks"] as? [[String: Any]])
        let bottoms = stacks.map { stack -> UInt32? in
            (stack["bottom"] as? String).flatMap { UInt32($0.dropFirst(2), radix: 16) }
        }
        XCTAssertEqual(stacks.compactMap { $0["name"] as? String }, layout.allStacks.map(\.name))
        XCTAssertEqual(bottoms, layout.allStacks.map { Optional($0.bottom) })
        let switchRegions = try XCTUnwrap(object["switch_regions"] as? [String: Any])
        for task in application.tasks {
            XCTAssertNotNil(switchRegions[task.name], "no switch-in for \(task.name)")
        }
    }

    func testSVGIsWellFormedAndLabelsEveryStack() throws {
        let layout = try plannedLayout()
        let svg = MemoryMapSVG.render(layout, title: "report <&> \"quoted\" on mps2-an385")
        let collector = TextCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "not XML: \(parser.parserError.map { "\($0)" } ?? "?")")
        XCTAssertEqual(collector.rootElement, "svg")
        for stack in layout.allStacks {
            // Inside its segment a label is the name alone; above the bar it is "name, N B".
            XCTAssertTrue(collector.texts.contains { $0 == stack.name || $0.hasPrefix(stack.name + ", ") },
                          "no label for \(stack.name) among \(collector.texts)")
        }
    }
}

/// Collects the content of every <text> element of an SVG.
private final class TextCollector: NSObject, XMLParserDelegate {
    var rootElement: String?
    var texts: [String] = []
    private var current: String?

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        if rootElement == nil { rootElement = elementName }
        if elementName == "text" { current = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        current? += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        if elementName == "text", let text = current {
            texts.append(text)
            current = nil
        }
    }
}
