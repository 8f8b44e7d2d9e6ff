// What kind of file a path names, looked at with stat(2) before anything opens it.
//
// Why: opening a FIFO for reading blocks until a writer comes, Foundation reports a directory
// or a device as "You don't have permission" (or "NSCocoaErrorDomain error 256"), and writing
// an output over a directory would first remove it. So every path a person gives Keel is
// looked at first, and anything but what the command expects is one clear line, exit code 2:
// "/tmp is a directory, not a file".

import Foundation

public enum FileKind: Sendable, Equatable, CustomStringConvertible {
    case file, directory, fifo, device, socket, other

    /// With its article, as a message says it: "a directory".
    public var description: String {
        switch self {
        case .file: "a file"
        case .directory: "a directory"
        case .fifo: "a FIFO"
        case .device: "a device"
        case .socket: "a socket"
        case .other: "a special file"
        }
    }

    /// What stat(2) says about a path (following symbolic links): its kind and size, or the
    /// error number when there is nothing to look at (ENOENT, EACCES, ENAMETOOLONG, ...).
    public static func status(of path: String) -> Result<Status, POSIXError> {
        var information = stat()
        guard stat(path, &information) == 0 else {
            return .failure(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
        }
        let kind: FileKind
        switch information.st_mode & S_IFMT {
        case S_IFREG: kind = .file
        case S_IFDIR: kind = .directory
        case S_IFIFO: kind = .fifo
        case S_IFCHR, S_IFBLK: kind = .device
        case S_IFSOCK: kind = .socket
        default: kind = .other
        }
        return .success(Status(kind: kind, bytes: UInt64(clamping: information.st_size)))
    }

    public struct Status: Sendable {
        public var kind: FileKind
        public var bytes: UInt64
    }

    /// Checks a file Keel is about to read: it exists, is a regular file and holds at most
    /// `limit` bytes (`what` names it in that message: "an ELF image").
    public static func requireReadable(_ path: String, limit: UInt64, what: String) throws(KeelError) {
        switch status(of: path) {
        case .failure(let error) where error.code == .ENOENT || error.code == .ENOTDIR:
            throw .badPath(path: path, problem: "does not exist")
        case .failure(let error):
            throw .badPath(path: path, problem: "cannot be read: \(reason(error))")
        case .success(let found) where found.kind != .file:
            throw .badPath(path: path, problem: "is \(found.kind), not a file")
        case .success(let found) where found.bytes > limit:
            throw .badPath(path: path, problem: "is \(found.bytes) bytes, too large for \(what) (at most \(limit))")
        case .success:
            return
        }
    }

    /// Checks a path Keel is about to write: nothing there yet, or a regular file to replace;
    /// and, unless the writer creates missing folders, an existing directory to hold it.
    public static func requireWritable(_ path: String, creatingFolders: Bool = false) throws(KeelError) {
        switch status(of: path) {
        case .success(let found) where found.kind != .file:
            throw .badPath(path: path, problem: "is \(found.kind), not a file")
        case .success:
            return
        case .failure(let error) where error.code == .ENOENT:
            guard !creatingFolders else { return }
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            if case .success(let found) = status(of: folder), found.kind == .directory { return }
            throw .badPath(path: path, problem: "cannot be written: its directory \(folder) does not exist")
        case .failure(let error) where error.code == .ENOTDIR:
            throw .badPath(path: path, problem: "cannot be written: a part of it is not a directory")
        case .failure(let error):
            throw .badPath(path: path, problem: "cannot be written: \(reason(error))")
        }
    }

    /// Checks a folder Keel is about to read from (an application): when something is there,
    /// it is a directory. A missing folder is left to the caller (it says what it needed).
    public static func requireDirectoryIfPresent(_ path: String, purpose: String) throws(KeelError) {
        if case .success(let found) = status(of: path), found.kind != .directory {
            throw .badPath(path: path, problem: "is \(found.kind), not a directory (\(purpose))")
        }
    }

    /// The system's words for an error number ("Permission denied").
    static func reason(_ error: POSIXError) -> String {
        String(cString: strerror(error.code.rawValue))
    }
}
