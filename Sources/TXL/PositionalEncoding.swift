// Sinusoid relative position embedding (Transformer-XL §3.3; reference: PositionalEmbedding).
// Row d holds the embedding of distance d, clamped at clampLen when clampLen > 0: sin half, then cos half.
import Foundation

public enum PositionalEncoding {
    /// out[n, C] for distances 0..<n. Computed as the reference does in float32: inv_freq, then d * inv_freq.
    public static func table(_ out: UnsafeMutablePointer<Float>, distances n: Int, C: Int, clampLen: Int) {
        let half = C / 2
        let invFreq = (0..<half).map { k -> Float in 1 / Float(pow(10000.0, Double(Float(2 * k) / Float(C)))) }
        for d in 0..<n {
            let pos = Float(clampLen > 0 ? min(d, clampLen) : d)
            let row = out + d * C
            for k in 0..<half {
                let angle = Double(pos * invFreq[k])
                row[k] = Float(sin(angle))
                row[half + k] = Float(cos(angle))
            }
        }
    }
}
