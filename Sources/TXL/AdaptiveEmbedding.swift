// Adaptive input embedding (Baevski & Auli 2019; reference: transformers' AdaptiveEmbedding): word t of cluster i
// is P_i E_i[t - l_i], scaled by sqrt(d_model). P_i [d_model, d_i]; no P when one table already has width d_model.

public struct AdaptiveEmbedding: Sendable {
    public let dModel: Int
    /// [0, ..., vocabulary size]: cluster i holds ids ends[i]..<ends[i + 1].
    public let ends: [Int]
    /// Per cluster: the table [n_i, d_i].
    public let tables: [FloatView]
    /// Per cluster: the projection [d_model, d_i], or nil where d_i == d_model and the table is used as it is.
    public let projections: [FloatView?]
    public var widths: [Int] { tables.indices.map { tables[$0].count / (ends[$0 + 1] - ends[$0]) } }

    public init(dModel: Int, ends: [Int], tables: [FloatView], projections: [FloatView?]) {
        precondition(
            ends.count == tables.count + 1 && projections.count == tables.count,
            "AdaptiveEmbedding: cluster counts")
        self.dModel = dModel; self.ends = ends; self.tables = tables; self.projections = projections
        for (i, w) in widths.enumerated() {
            precondition(tables[i].count == (ends[i + 1] - ends[i]) * w, "AdaptiveEmbedding: table \(i) size")
            precondition(
                projections[i].map { $0.count == dModel * w } ?? (w == dModel),
                "AdaptiveEmbedding: projection \(i)")
        }
    }

    /// Cluster of an id.
    @inline(__always)
    public func cluster(of token: Int) -> Int {
        var i = 0
        while token >= ends[i + 1] { i += 1 }
        return i
    }

    /// out[T, d_model] for tokens [T], each in 0..<vocabulary size.
    public func forward(_ out: UnsafeMutablePointer<Float>, tokens: [Int]) {
        let C = dModel, scale = Float(C).squareRoot()
        let widths = widths
        for i in tables.indices {
            let rows = tokens.indices.filter { tokens[$0] >= ends[i] && tokens[$0] < ends[i + 1] }
            if rows.isEmpty { continue }
            let w = widths[i], n = rows.count
            // Gather the rows of this cluster, project them together, scatter back.
            var gathered = [Float](repeating: 0, count: n * w)  // [n, d_i]
            for (k, r) in rows.enumerated() {
                let src = tables[i].base + (tokens[r] - ends[i]) * w
                for j in 0..<w { gathered[k * w + j] = src[j] }
            }
            var projected = gathered  // [n, d_model]
            if let p = projections[i] {
                projected = [Float](repeating: 0, count: n * C)
                Linear.forward(&projected, gathered, p.base, nil, N: n, I: w, O: C)
            }
            for (k, r) in rows.enumerated() {
                for c in 0..<C { out[r * C + c] = projected[k * C + c] * scale }
            }
        }
    }
}
