// Every failure Keel reports to a person, each with one line that says what is wrong.
//
// Input problems (bad board, manifest, layout) are exit code 2; a tool or build step that
// failed is exit code 1. The CLI prints `description` and never a stack trace.

public enum KeelError: Error, CustomStringConvertible, Equatable {
    case unknownBoard(String, known: [String])
    case manifestMissing(path: String)
    case manifestUnreadable(path: String, reason: String)
    case manifestInvalid(path: String, problem: String)
    case layoutImpossible(String)
    case toolMissing(tool: String, hint: String)
    case buildFailed(step: String, output: String)
    case runFailed(String)
    case elf(String)
    case stackCheckFailed(String)

    public var description: String {
        switch self {
        case .unknownBoard(let name, let known):
            "unknown board '\(name)'; known boards: \(known.joined(separator: ", "))"
        case .manifestMissing(let path):
            "no manifest: \(path) does not exist (an application folder needs a keel.json)"
        case .manifestUnreadable(let path, let reason):
            "\(path): cannot be read as JSON: \(reason)"
        case .manifestInvalid(let path, let problem):
            "\(path): \(problem)"
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
            "the stack check failed (set \"stack_check\": \"warn\" in keel.json, or pass --no-check, to build anyway):\n\(findings)"
        }
    }

    /// 2 for bad input, 1 for a failed tool or step.
    public var exitCode: Int32 {
        switch self {
        case .unknownBoard, .manifestMissing, .manifestUnreadable, .manifestInvalid, .layoutImpossible, .elf: 2
        case .toolMissing, .buildFailed, .runFailed, .stackCheckFailed: 1
        }
    }
}
