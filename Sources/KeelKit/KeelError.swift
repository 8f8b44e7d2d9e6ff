// Every failure Keel reports to a person, each with one line that says what is wrong.
//
// Input problems (bad board, manifest, layout, path) are exit code 2; a tool or build step
// that failed is exit code 1. The CLI prints `description` and never a stack trace.
// A message that quotes what a person typed quotes an excerpt (`KeelError.excerpt`), so a
// megabyte name or a name with a line break still gives one short line.

/// Keel's version, as `keel --version` prints it.
public enum KeelVersion {
    public static let string = "0.4.0"
}

public enum KeelError: Error, CustomStringConvertible, Equatable {
    case unknownBoard(String, known: [String])
    case manifestMissing(path: String)
    case manifestUnreadable(path: String, reason: String)
    case manifestInvalid(path: String, problem: String)
    /// A mistake in the application's Swift that the build can name before compiling it.
    case sourceInvalid(file: String, line: Int, problem: String)
    case layoutImpossible(String)
    case toolMissing(tool: String, hint: String)
    case buildFailed(step: String, output: String)
    case runFailed(String)
    case elf(String)
    case stackCheckFailed(String)
    /// A path that is missing, unreadable, too large, or not the kind of file expected.
    case badPath(path: String, problem: String)
    /// A debug target (a GDB stub) that cannot be reached, stops answering, or refuses a request.
    case debugTarget(String)
    /// A console, log or target written by another build than the ELF given to decode it.
    case imageMismatch(String)

    public var description: String {
        switch self {
        case .unknownBoard(let name, let known):
            "unknown board '\(Self.excerpt(name))'; known boards: \(known.joined(separator: ", "))"
        case .manifestMissing(let path):
            "no manifest: \(path) does not exist (an application folder needs a keel.json)"
        case .manifestUnreadable(let path, let reason):
            "\(path): cannot be read as JSON: \(Self.oneLine(reason))"
        case .manifestInvalid(let path, let problem):
            "\(path): \(Self.oneLine(problem))"
        case .sourceInvalid(let file, let line, let problem):
            "\(file):\(line): \(Self.oneLine(problem))"
        case .layoutImpossible(let problem):
            "impossible layout: \(problem)"
        case .toolMissing(let tool, let hint):
            "\(tool) not found; \(hint)"
        case .buildFailed(let step, let output):
            "\(step) failed:\n\(output)"
        case .runFailed(let problem):
            problem
        case .elf(let problem):
            "bad ELF image: \(problem)"
        case .stackCheckFailed(let findings):
            "the stack check failed (each finding says what to declare; `keel build --no-check`, "
                + "or \"stack_check\": \"warn\" in keel.json, to go on anyway):\n\(findings)"
        case .badPath(let path, let problem):
            "\(path.isEmpty ? "the empty path" : Self.oneLine(path, wordLimit: 1024)) \(problem)"
        case .debugTarget(let problem):
            problem
        case .imageMismatch(let problem):
            problem
        }
    }

    /// 2 for bad input, 1 for a failed tool or step.
    public var exitCode: Int32 {
        switch self {
        case .unknownBoard, .manifestMissing, .manifestUnreadable, .manifestInvalid, .sourceInvalid, .layoutImpossible, .elf, .badPath, .imageMismatch: 2
        case .toolMissing, .buildFailed, .runFailed, .stackCheckFailed, .debugTarget: 1
        }
    }
}

extension KeelError {
    /// Scalars of typed text a message quotes in full; longer text is cut to `excerptKeeps`.
    public static let excerptLimit = 60
    public static let excerptKeeps = 40

    /// Typed text as a message quotes it: control and format characters (line breaks, tabs,
    /// direction overrides) written as escapes, and text longer than `excerptLimit` cut to its
    /// first `excerptKeeps` characters with its length, e.g. `aaaa… (1048576 characters)`.
    /// Counted in Unicode scalars, so a megabyte of combining marks is cut too.
    public static func excerpt(_ text: String, limit: Int = excerptLimit, keeps: Int = excerptKeeps) -> String {
        var shown = ""
        var count = 0
        for scalar in text.unicodeScalars {
            count += 1
            if count <= limit { shown += escaped(scalar) }
        }
        guard count > limit else { return shown }
        var kept = ""
        for scalar in text.unicodeScalars.prefix(keeps) { kept += escaped(scalar) }
        return kept + "… (\(count) characters)"
    }

    /// A message that may quote typed text, made one line: escapes as in `excerpt`, every
    /// space-separated word longer than `wordLimit` shortened to an excerpt (Keel's own words,
    /// even a key path around an excerpt, are shorter, so only raw typed text is cut), and the
    /// whole cut after 300 characters when it is still longer than 360 (text with many spaces).
    public static func oneLine(_ message: String, wordLimit: Int = 100) -> String {
        let words = message.split(separator: " ", omittingEmptySubsequences: false)
            .map { excerpt(String($0), limit: wordLimit) }
            .joined(separator: " ")
        return excerpt(words, limit: max(360, wordLimit + 60), keeps: max(300, wordLimit))
    }

    static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default: break
        }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return "\\u{" + String(scalar.value, radix: 16) + "}"
        default:
            return String(scalar)
        }
    }
}
