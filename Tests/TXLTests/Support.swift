// Shared helpers for the runtime tests: deterministic random numbers and tiny models.
import Foundation
import TXL
import Testing

/// Deterministic random numbers (TXL's generator), so failures reproduce.
struct Rand {
    var rng: Random
    init(_ seed: UInt64) { rng = Random(seed: seed) }
    mutating func next() -> UInt64 { rng.next() }
    /// Uniform in [-a, a).
    mutating func float(_ a: Float = 1) -> Float { Float(Double(next() >> 11) / Double(1 << 53) * 2 - 1) * a }
    mutating func floats(_ n: Int, _ a: Float = 1) -> [Float] { (0..<n).map { _ in float(a) } }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

/// A tiny model with random weights large enough that attention is far from uniform.
func tinyModel(
    layers: Int = 2, heads: Int = 2, dModel: Int = 12, dHead: Int = 5, dInner: Int = 20, segment: Int = 8,
    memory: [Int]? = nil, sameLength: Bool = false, clamp: Int = -1, preLnorm: Bool = false,
    seed: UInt64 = 3
) -> TransformerXL {
    let c = Config(
        nLayer: layers, nHead: heads, dModel: dModel, dHead: dHead, dInner: dInner, tgtLen: segment,
        memLens: memory ?? Array(repeating: segment, count: layers), sameLength: sameLength, clampLen: clamp,
        preLnorm: preLnorm)
    let m = TransformerXL(config: c)
    var r = Rand(seed)
    for s in m.params.specs {
        let buf = m.params.buffer(s)
        for i in 0..<buf.count { buf[i] = s.isLayerNormWeight ? 1 + r.float(0.2) : r.float(0.5) }
    }
    return m
}

func assertClose(
    _ a: [Float], _ b: [Float], tol: Float, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(a.count == b.count, "\(what): count", sourceLocation: sourceLocation)
    var worst: Float = 0, at = 0
    for i in 0..<min(a.count, b.count) {
        let d = abs(a[i] - b[i]) / max(1, abs(b[i]))
        if !(d <= worst) { worst = d.isNaN ? .infinity : d; at = i }
    }
    #expect(
        worst <= tol, "\(what): worst relative delta at \(at): \(a.isEmpty ? 0 : a[at]) vs \(b.isEmpty ? 0 : b[at])",
        sourceLocation: sourceLocation)
}

/// The reference fixtures' folder, $MEMSCOPE_FIXTURES (default ../shared/fixtures), and its files; empty where absent.
enum Fixtures {
    static let folder = ProcessInfo.processInfo.environment["MEMSCOPE_FIXTURES"] ?? "../shared/fixtures"
    static let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
        .filter { $0.hasSuffix(".safetensors") }.sorted()
    static let present = !files.isEmpty
}
