// Each queue's slot against its element's real size, read from the compiled application.
//
// Why at build time: a queue's storage is sized from the manifest (a known type's stride, or
// "element_bytes"), but only the compiler knows the stride of the application's own types. A
// slot smaller than the element would overwrite the next slot or the next object; the
// generated accessor traps then, but at run time, in a reset loop that never names the
// queue. So the generated code keeps each element's `MemoryLayout<Element>.stride` as a
// constant named after the queue (`keel_queue_stride_<name>`), which the optimiser folds to a
// number in the IR, and the build compares it with the manifest before anything is linked.

import Foundation

public enum QueueElementCheck {
    public static let stridePrefix = "keel_queue_stride_"

    /// The line of generated Swift that keeps `queue`'s element stride in the image.
    static func strideDeclaration(_ queue: QueueSpec) -> String {
        "@used @_silgen_name(\"\(stridePrefix)\(queue.name)\") let keelQueueStride_\(queue.name): Int = MemoryLayout<\(queue.element)>.stride"
    }

    /// Queue name → the stride the compiler gave its element, from the application's IR
    /// (`@keel_queue_stride_samples = protected constant %TSi <{ i32 8 }>`).
    static func strides(inIR ir: String) -> [String: Int] {
        var result: [String: Int] = [:]
        for line in ir.split(separator: "\n") where line.hasPrefix("@" + stridePrefix) {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let name = line[line.index(line.startIndex, offsetBy: 1 + stridePrefix.count)..<equals].trimmingCharacters(in: .whitespaces)
            guard line.contains(" constant "), let open = line.range(of: "i32 ", options: .backwards) else { continue }
            if let value = Int(line[open.upperBound...].prefix { $0.isNumber }) { result[name] = value }
        }
        return result
    }

    /// Throws, naming the queue and the size to declare, when a queue's slot is not its
    /// element's stride (smaller corrupts memory; larger wastes it and means the manifest is
    /// wrong about the type).
    static func check(_ objects: KernelObjects, ir: String, manifestPath: String) throws(KeelError) {
        let measured = strides(inIR: ir)
        for queue in objects.queues {
            guard let stride = measured[queue.name] else {
                throw .buildFailed(step: "the queue check", output: "the compiled application has no \(stridePrefix)\(queue.name)")
            }
            guard stride != queue.elementBytes else { continue }
            let declared = KernelObjects.knownStrides[queue.element] == nil ? "\"element_bytes\" says \(queue.elementBytes)"
                : "Keel takes \(queue.elementBytes) for it"
            throw .manifestInvalid(path: manifestPath, problem: "'queues'.'\(queue.name)': an element of type \(queue.element) "
                + "is \(stride) bytes (its MemoryLayout<\(queue.element)>.stride), but \(declared); "
                + "declare \"element_bytes\": \(stride)")
        }
    }
}
