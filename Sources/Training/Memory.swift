// Transformer-XL training memory: each layer's cached inputs, outside the gradient graph (the reference's
// stop-gradient, `mems` under torch.no_grad in _update_mems). Layer l keeps its last M_l inputs per stream.

public struct Memory: Sendable, Equatable {
    public let limits: [Int]
    public let batch: Int
    public let width: Int
    /// Rows present per layer (the same for every stream), at most limits[l].
    public internal(set) var lengths: [Int]
    /// Per layer [B, limits[l], C]; the first lengths[l] rows of each stream are valid, oldest first.
    public internal(set) var states: [[Float]]

    public init(limits: [Int], batch: Int, width: Int) {
        self.limits = limits; self.batch = batch; self.width = width
        lengths = Array(repeating: 0, count: limits.count)
        states = limits.map { [Float](repeating: 0, count: batch * $0 * width) }
    }

    public mutating func reset() { lengths = Array(repeating: 0, count: limits.count) }

    /// Keeps the last min(M, klen) rows of cat [B, klen, C] as layer l's memory.
    mutating func update(layer l: Int, from cat: UnsafePointer<Float>, klen: Int) {
        let M = limits[l], keep = min(M, klen), C = width
        states[l].withUnsafeMutableBufferPointer { s in
            for b in 0..<batch {
                (s.baseAddress! + b * M * C).update(from: cat + (b * klen + klen - keep) * C, count: keep * C)
            }
        }
        lengths[l] = keep
    }

    /// Restores a saved memory (resume); shapes must match.
    public mutating func restore(lengths: [Int], states: [[Float]]) {
        precondition(lengths.count == limits.count && states.count == limits.count)
        self.lengths = lengths
        self.states = states
    }
}
