// An advisory lock (flock(2)) on one build folder, shared by every keel process and thread.
//
// Why: two `keel` processes (two `keel bench` runs, a test and a command line) building the
// same application for the same board write the same intermediate files (generated Swift,
// IR, objects, the image and its `.inputs` stamp) into one folder; interleaved, they once
// linked a half-written object. A build holds the folder's lock from its stamp check to its
// last write, so the second one waits and then finds the first one's image up to date.
// flock locks belong to an open file description, so two threads of one process that each
// open the lock file exclude each other too; the kernel releases the lock when the process
// dies, so a killed build never leaves the folder locked.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class FolderLock {
    /// The lock file's name inside the folder it guards.
    static let fileName = ".keel-lock"

    private var descriptor: Int32

    /// Waits until this process holds `folder`'s lock (the folder must exist).
    init(_ folder: URL) throws(KeelError) {
        let path = folder.appendingPathComponent(Self.fileName).path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .buildFailed(step: "open the lock file \(path)", output: String(cString: strerror(errno)))
        }
        // A signal may interrupt the wait (EINTR); anything else is a real failure.
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw .buildFailed(step: "lock \(path)", output: reason)
            }
        }
    }

    /// Lets the next build of the folder in; the lock is released once, here or at deinit.
    func unlock() {
        guard descriptor >= 0 else { return }
        close(descriptor)  // closing the last descriptor of the description releases the flock
        descriptor = -1
    }

    deinit { unlock() }
}
