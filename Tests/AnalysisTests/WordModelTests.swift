// Word models through the analysis layer: evaluation in bits per token against the simple reference forward, the
// random wt103-shaped folder writer (tensor names the loader accepts), and the loader's use of the mapped file.
import Analysis
import Foundation
import TXL
import Testing

@Suite struct WordModelTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hf/div4-same-length").path

    @Test func bitsPerTokenMatchReferenceForward() throws {
        let hf = try HFCheckpoint(directory: WordModelTests.fixture)
        let c = hf.config
        let tokens = (0..<45).map { ($0 * 53 + 7) % c.vocabSize }
        let options = RunOptions(
            memory: Array(repeating: c.memLen, count: c.nLayer), sameLength: c.sameLength, clampLen: c.clampLen)
        let r = try Evaluator.evaluate(network: Network(hf), tokens: tokens, options: options, segment: 8)
        let reference = try HFReference(model: hf).logProbs(stream: tokens, segment: 8)
        let bits = -reference.reduce(0.0) { $0 + Double($1) } / M_LN2
        #expect(r.predicted == 44)
        #expect(abs(r.bits - bits) < 1e-3, "evaluator \(r.bits) bits, reference \(bits)")
    }

    @Test func randomFolderLoadsWithEveryTensorUsed() throws {
        let dir = NSTemporaryDirectory() + "memscope-word-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var json = WordBenchmark.wt103Config(layers: 2)
        json["vocab_size"] = 400; json["cutoffs"] = [50, 100, 300]; json["d_model"] = 64; json["d_embed"] = 64
        json["n_head"] = 2; json["d_head"] = 8; json["d_inner"] = 48; json["mem_len"] = 8; json["tgt_len"] = 4
        json["clamp_len"] = 6
        let written = try WordBenchmark.writeRandomFolder(dir, config: json)
        let hf = try HFCheckpoint(directory: dir)  // strict: a missing or unexpected tensor throws
        #expect(hf.parameterCount == written)
        #expect(hf.file.isMapped)
        // float32 layers are read in place from the mapping, not copied.
        #expect(hf.layerParams.specs.isEmpty)
        let qkv = try #require(hf.file.mappedFloats("transformer.layers.1.dec_attn.qkv_net.weight"))
        #expect(hf.layers[1].qkv == UnsafeMutablePointer(mutating: qkv))
        // The word-level eval runs on it.
        let tokens = WordBenchmark.tokens(hf.config, count: 30, shares: [0.7, 0.1, 0.1, 0.1])
        #expect(tokens.allSatisfy { $0 >= 0 && $0 < 400 })
        let options = RunOptions(memory: [8, 8], sameLength: true, clampLen: 6)
        let r = try Evaluator.evaluate(network: Network(hf), tokens: tokens, options: options, segment: 4)
        #expect(r.bits.isFinite && r.predicted == 29)
    }

    @Test func flopCountGrowsWithMemoryAndTailShare() throws {
        let c = try HFConfig(json: JSONSerialization.data(withJSONObject: WordBenchmark.wt103Config()))
        let shares = [0.9, 0.05, 0.04, 0.01]
        let a = WordBenchmark.flopsPerToken(
            c, memory: Array(repeating: 1600, count: 18), segment: 128, sameLength: true, inputShare: shares,
            tailShare: Array(shares.dropFirst()))
        let b = WordBenchmark.flopsPerToken(
            c, memory: Array(repeating: 800, count: 18), segment: 128, sameLength: true, inputShare: shares,
            tailShare: Array(shares.dropFirst()))
        // Attention over 800 fewer keys in 18 layers: 3 products x 2 x d_attn x 800 x 18 FLOPs less.
        #expect(abs((a - b) - 3 * 2 * 1024 * 800 * 18) < 1)
    }

    @Test func fixtureErrorsNameTheFile() throws {
        do {
            _ = try HFFixture(directory: NSTemporaryDirectory())
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains("expected.json") && !"\(error)".contains("\n"))
        }
        let fx = try HFFixture(directory: WordModelTests.fixture)
        let d = try fx.maxForwardDelta()
        #expect(d.all <= 1e-4 && d.tokens == 58)
    }
}
