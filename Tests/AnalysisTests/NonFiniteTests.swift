// Issue 8, findings 3 and 4: a non-finite loss is an error naming the layer and segment where it first appears (no
// "bpc -nan", no invalid JSON), and buffers are sized by the text, within the memory this process may use.
import Analysis
import Foundation
import Testing
import TXL

@Suite struct NonFiniteTests {
    func model() -> TransformerXL {
        Benchmark.randomModel(
            Config(nLayer: 2, nHead: 2, dModel: 16, dHead: 6, dInner: 24, tgtLen: 8, memLens: [8, 4]), seed: 5)
    }
    func text(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: ($0 * 37 + $0 / 7) % 97 + 20) } }

    /// Finite but huge weights in `layer`'s attention projection: scores overflow float32 there.
    func overflowing(layer: Int) -> TransformerXL {
        let m = model()
        let b = m.params.buffer(m.params.specs.first { $0.name == "layers.\(layer).dec_attn.qkv_net.weight" }!)
        for i in b.indices { b[i] = i % 2 == 0 ? 1e30 : -1e30 }
        return m
    }

    func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }

    @Test func evaluateNamesLayerAndSegment() {
        for layer in [0, 1] {
            let m = overflowing(layer: layer)
            let e = message {
                _ = try Evaluator.evaluate(model: m, text: text(40), options: RunOptions(config: m.config), segment: 8)
            }
            #expect(e?.contains("non-finite loss in segment 0") == true, "\(e ?? "no error")")
            #expect(e?.contains("attention in layer \(layer)") == true, "\(e ?? "no error")")
        }
        let m = overflowing(layer: 1)
        let e = message {
            _ = try Evaluator.evaluate(
                model: m, text: text(40), options: RunOptions(config: m.config), segment: 8, batch: 2)
        }
        #expect(e?.contains("of stream 0") == true, "\(e ?? "no error")")
    }

    @Test func attentionRefusesNonFiniteProbabilities() {
        let m = overflowing(layer: 0)
        let e = message {
            _ = try Evaluator.attention(
                model: m, text: text(40), offset: 20, options: RunOptions(config: m.config), segment: 8, layers: [1])
        }
        #expect(e?.contains("non-finite") == true, "\(e ?? "no error")")
    }

    // Finding 4: a 300-byte text with --segment 65536 and memory 65536 once sized buffers by the segment (tens of GB).
    @Test func buffersAreSizedByTheText() throws {
        let m = model(), t = text(300)
        let o = RunOptions(config: m.config, memory: [65536, 65536])
        let long = try Evaluator.evaluate(model: m, text: t, options: o, segment: 65536)
        let short = try Evaluator.evaluate(model: m, text: t, options: o, segment: 299)
        #expect(long.bits == short.bits)
        #expect(long.bpc.isFinite)
    }

    @Test func budgetNamesEstimateAndLimit() {
        let m = model()
        let e = message {
            _ = try Evaluator.evaluate(
                model: m, text: text(1 << 17), options: RunOptions(config: m.config, memory: [65536, 65536]),
                segment: 65536, batch: 2)
        }
        #expect(e?.contains("GB of working memory; the limit is") == true, "\(e ?? "no error")")
        #expect(MemoryBudget.limit().bytes > 0)
    }
}
