// Transformer-XL memory (Dai et al. 2019 §3.2; Rae & Razavi 2020: a length per layer): for each layer, the last
// M_l positions of every stream, outside the gradient graph (the reference's `mems`, updated under no_grad).
//
// One type, two contents. Inference keeps each position's key|value projections, [k | v] of width 2A: the weights
// do not change, so no position is projected twice. Training keeps each layer's input rows, width C, and projects
// them again every step, because the weights change. Either way a segment of t rows is appended after the memory,
// the layer attends over [memory; segment], and `trim` keeps the last M_l rows. `limits` is the one place a run's
// per-layer memory length lives. Each stream has `slack` segments of spare rows after its memory, so that `trim`
// only moves where the memory starts, and copies the rows back to the front once every `slack` segments.
import Foundation

public struct Memory: @unchecked Sendable {
    /// M_l, the memory length of each layer.
    public let limits: [Int]
    public let batch: Int
    /// Floats per row: 2A (keys and values) at inference, C (layer inputs) in training.
    public let width: Int
    /// Longest segment that may be appended.
    public let segment: Int
    /// Rows of memory present per layer (every stream alike), at most limits[l].
    public internal(set) var lengths: [Int]
    /// Where each layer's memory starts in its stream's rows (0 ..< stride - M_l - segment).
    var starts: [Int]
    /// Per layer [B, M_l + slack x segment, width]. A value: copying a `Memory` snapshots it (copied on the next
    /// write).
    var storage: Storage

    /// Segments of spare rows per stream.
    public static let slack = 4

    public init(limits: [Int], batch: Int, width: Int, segment: Int) {
        self.limits = limits; self.batch = batch; self.width = width; self.segment = segment
        lengths = Array(repeating: 0, count: limits.count)
        starts = lengths
        storage = Storage(rows: limits.map { batch * ($0 + Memory.slack * segment) }, width: width)
    }

    /// Rows between one stream's first row and the next stream's in layer l.
    public func stride(_ l: Int) -> Int { limits[l] + Memory.slack * segment }

    /// Row i of stream b in layer l: i < lengths[l] is memory (oldest first), then the appended segment.
    /// Writing through it needs `makeUnique()` first.
    public func row(_ l: Int, stream b: Int, _ i: Int) -> UnsafeMutablePointer<Float> {
        storage.layers[l].baseAddress! + (b * stride(l) + starts[l] + i) * width
    }

    /// Makes the storage this value's own before writing, so snapshots stay as they were.
    public mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// Forgets all memory, as at the start of a text.
    public mutating func reset() {
        lengths = Array(repeating: 0, count: limits.count)
        starts = lengths
    }

    /// Copies x [B, t, width] after each stream's memory in layer l (training: the layer's input rows).
    public mutating func append(layer l: Int, _ x: UnsafePointer<Float>, t: Int) {
        precondition(t <= segment, "append: \(t) rows exceed the segment \(segment)")
        makeUnique()
        for b in 0..<batch { row(l, stream: b, lengths[l]).update(from: x + b * t * width, count: t * width) }
    }

    /// After t rows were appended to layer l: keeps the last min(M_l, lengths + t) rows of each stream, moving them
    /// to the front only when a next segment would not fit after them.
    public mutating func trim(layer l: Int, appended t: Int) {
        let klen = lengths[l] + t, keep = min(limits[l], klen), drop = klen - keep
        starts[l] = keep == 0 ? 0 : starts[l] + drop
        lengths[l] = keep
        if keep > 0 && starts[l] + keep + segment > stride(l) {
            makeUnique()
            let m = self, from = starts[l]
            let move: @Sendable (Int) -> Void = { b in
                let base = m.storage.layers[l].baseAddress! + b * m.stride(l) * m.width
                base.update(from: base + from * m.width, count: keep * m.width)
            }
            // Large copies (long memories, many streams) are spread over the cores.
            if batch > 1 && keep * width >= 1 << 16 {
                DispatchQueue.concurrentPerform(iterations: batch, execute: move)
            } else {
                for b in 0..<batch { move(b) }
            }
            starts[l] = 0
        }
    }

    /// Layer l's memory rows, [B, M_l, width] (rows past lengths[l] are zero), for checkpoints.
    public func packed(layer l: Int) -> [Float] {
        let M = limits[l]
        var out = [Float](repeating: 0, count: batch * M * width)
        out.withUnsafeMutableBufferPointer { o in
            for b in 0..<batch {
                (o.baseAddress! + b * M * width).update(from: row(l, stream: b, 0), count: lengths[l] * width)
            }
        }
        return out
    }

    /// Restores memory saved by `packed` (resume); shapes must match.
    public mutating func restore(lengths: [Int], states: [[Float]]) {
        precondition(lengths.count == limits.count && states.count == limits.count)
        makeUnique()
        starts = Array(repeating: 0, count: limits.count)
        for l in limits.indices {
            precondition(lengths[l] <= limits[l] && states[l].count == batch * limits[l] * width)
            states[l].withUnsafeBufferPointer { s in
                for b in 0..<batch {
                    row(l, stream: b, 0).update(from: s.baseAddress! + b * limits[l] * width, count: lengths[l] * width)
                }
            }
        }
        self.lengths = lengths
    }

    final class Storage: @unchecked Sendable {
        let layers: [UnsafeMutableBufferPointer<Float>]

        init(rows: [Int], width: Int) {
            layers = rows.map { n in
                let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(n * width, 1))
                p.initialize(repeating: 0)
                return p
            }
        }

        private init(layers: [UnsafeMutableBufferPointer<Float>]) { self.layers = layers }

        func copy() -> Storage {
            Storage(
                layers: layers.map { s in
                    let d = UnsafeMutableBufferPointer<Float>.allocate(capacity: s.count)
                    _ = d.initialize(fromContentsOf: s)
                    return d
                })
        }

        deinit { for p in layers { p.deallocate() } }
    }
}
