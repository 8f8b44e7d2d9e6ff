// Task entries (and an application's own segment allocator) checked against the
// application's sources before anything is compiled, so a
// mistake in the manifest is one line about the manifest, not a compiler error in generated
// code ("cannot find 'sensorTsk' in scope" in KeelGenerated.swift).
//
// A light reading of the Swift text, not a parser: it finds `func NAME(...)` declarations
// (comments and string literals stripped first). It only ever reports what it is sure of:
// no declaration of the name at all, or every declaration of it needing arguments. Anything
// subtler is left to the compiler, whose errors in the application's files are shown as is.

import Foundation

public enum EntryCheck {
    /// One `func` declaration found in a source file.
    struct Declaration {
        var name: String
        var parameters: String
        var file: String
        var line: Int
        /// Callable as `name()`: no parameters, or a default for each.
        var callableWithoutArguments: Bool {
            let list = parameters.trimmingCharacters(in: .whitespaces)
            if list.isEmpty { return true }
            return splitTopLevel(list).allSatisfy { $0.contains("=") }
        }
    }

    /// Throws the first entry of `application` that no source declares as a function callable
    /// with no arguments, naming the manifest, the task, the entry and a close match.
    public static func check(_ application: Application) throws(KeelError) {
        let manifest = application.directory.appendingPathComponent(Manifest.fileName).path
        try checkSegmentAllocator(application, manifest: manifest)
        var declarations: [Declaration] = []
        for source in application.sources {
            guard let text = try? String(contentsOf: source, encoding: .utf8) else { continue }
            declarations += functions(in: text, file: source.lastPathComponent)
        }
        // Every task's entry (the timer task's is generated) and every timer's callback.
        let functions = application.tasks.filter { $0.name != Manifest.timerTaskName || $0.entry != Manifest.timerTaskEntry }
            .map { (who: "task '\($0.name)': entry", function: $0.entry, why: "a task starts with nothing to pass it") }
            + application.objects.timers.map { (who: "timer '\($0.name)': callback", function: $0.callback, why: "the timer task calls it with nothing") }
        for (who, function, why) in functions {
            let name = String(function.split(separator: ".").last ?? Substring(function))
            let matches = declarations.filter { $0.name == name }
            if matches.isEmpty {
                let files = application.sources.map(\.lastPathComponent).sorted()
                var problem = "\(who) '\(function)' is not a function in "
                    + (files.isEmpty ? "the application, which has no Swift sources" : files.joined(separator: ", "))
                if let near = closest(to: name, among: Set(declarations.map(\.name))) { problem += "; did you mean '\(near)'?" }
                throw .manifestInvalid(path: manifest, problem: problem)
            }
            if !matches.contains(where: \.callableWithoutArguments), let first = matches.first {
                throw .manifestInvalid(path: manifest, problem: "\(who) '\(function)' must take no arguments "
                    + "(\(why)), but \(first.file):\(first.line) declares func \(first.name)(\(first.parameters))")
            }
        }
    }

    /// A `"segment_allocator"` that names a type of the application must name one its sources
    /// declare (`struct`, `class`, `enum` or `actor`), or the kernel's own type names.
    static func checkSegmentAllocator(_ application: Application, manifest: String) throws(KeelError) {
        guard case .custom(let name) = application.segmentAllocator else { return }
        if name == SegmentAllocatorChoice.pool.typeName || name == SegmentAllocatorChoice.reserved.typeName { return }
        let simple = String(name.split(separator: ".").last ?? Substring(name))
        var types = Set<String>()
        for source in application.sources {
            guard let text = try? String(contentsOf: source, encoding: .utf8) else { continue }
            let words = stripped(text).split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).map(String.init)
            for (index, word) in words.enumerated().dropLast() where ["struct", "class", "enum", "actor"].contains(word) {
                types.insert(words[index + 1])
            }
        }
        guard !types.contains(simple) else { return }
        var problem = "'segment_allocator' names '\(name)', which no Swift source of the application declares "
            + "(a type conforming to SegmentAllocator; the kernel's own are \"pool\" and \"reserved\")"
        if let near = closest(to: simple, among: types) { problem += "; did you mean '\(near)'?" }
        throw .manifestInvalid(path: manifest, problem: problem)
    }

    /// Every `func name(parameters)` in `text`, with its line.
    static func functions(in text: String, file: String) -> [Declaration] {
        let code = Array(stripped(text).unicodeScalars)
        var result: [Declaration] = []
        var index = 0, line = 1
        func isIdentifier(_ scalar: Unicode.Scalar) -> Bool { CharacterSet.alphanumerics.contains(scalar) || scalar == "_" }
        while index < code.count {
            if code[index] == "\n" { line += 1 }
            // "func" as a whole word, then the name, generic parameters, and the parenthesised list.
            if code[index] == "f", index + 4 < code.count, String(String.UnicodeScalarView(code[index..<index + 4])) == "func",
               index == 0 || !isIdentifier(code[index - 1]), !isIdentifier(code[index + 4]) {
                var cursor = index + 4
                while cursor < code.count, code[cursor] == " " || code[cursor] == "\t" { cursor += 1 }
                var name = ""
                if cursor < code.count, code[cursor] == "`" {
                    cursor += 1
                    while cursor < code.count, code[cursor] != "`" { name.unicodeScalars.append(code[cursor]); cursor += 1 }
                    cursor += 1
                } else {
                    while cursor < code.count, isIdentifier(code[cursor]) { name.unicodeScalars.append(code[cursor]); cursor += 1 }
                }
                if cursor < code.count, code[cursor] == "<" {  // generic parameters
                    var depth = 0
                    repeat {
                        if code[cursor] == "<" { depth += 1 } else if code[cursor] == ">" { depth -= 1 }
                        cursor += 1
                    } while cursor < code.count && depth > 0
                }
                while cursor < code.count, code[cursor] == " " { cursor += 1 }
                if !name.isEmpty, cursor < code.count, code[cursor] == "(" {
                    var depth = 0, parameters = ""
                    repeat {
                        if code[cursor] == "(" { depth += 1 } else if code[cursor] == ")" { depth -= 1 }
                        if depth > 0 && !(depth == 1 && code[cursor] == "(") { parameters.unicodeScalars.append(code[cursor]) }
                        cursor += 1
                    } while cursor < code.count && depth > 0
                    let flat = parameters.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
                    result.append(Declaration(name: name, parameters: flat, file: file, line: line))
                }
            }
            index += 1
        }
        return result
    }

    /// `text` with comments and string literals blanked out (newlines kept, so lines still count).
    static func stripped(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index], next = index + 1 < scalars.count ? scalars[index + 1] : " "
            if scalar == "/" && next == "/" {
                while index < scalars.count && scalars[index] != "\n" { index += 1 }
            } else if scalar == "/" && next == "*" {
                index += 2
                while index < scalars.count && !(scalars[index] == "*" && index + 1 < scalars.count && scalars[index + 1] == "/") {
                    if scalars[index] == "\n" { out.append("\n") }
                    index += 1
                }
                index += 2
            } else if scalar == "\"" {
                index += 1
                while index < scalars.count && scalars[index] != "\"" {
                    if scalars[index] == "\\" { index += 1 }
                    if index < scalars.count && scalars[index] == "\n" { out.append("\n") }
                    index += 1
                }
                index += 1
                out.append("\"")
                out.append("\"")
            } else {
                out.append(scalar)
                index += 1
            }
        }
        return String(out)
    }

    /// Splits a parameter list at its top-level commas.
    static func splitTopLevel(_ list: String) -> [String] {
        var parts: [String] = [], current = "", depth = 0
        for character in list {
            if "([<".contains(character) { depth += 1 } else if ")]>".contains(character) { depth -= 1 }
            if character == "," && depth == 0 { parts.append(current); current = "" } else { current.append(character) }
        }
        parts.append(current)
        return parts
    }

    /// The name closest to `name` by edit distance, if it is close (at most a third of its length, at least 2).
    static func closest(to name: String, among names: Set<String>) -> String? {
        let limit = max(2, name.count / 3)
        return names.map { ($0, distance(name.lowercased(), $0.lowercased())) }
            .filter { $0.1 <= limit }.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }?.0
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
