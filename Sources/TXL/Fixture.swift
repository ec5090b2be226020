// Parity fixtures made with the reference PyTorch code (format: ../shared/fixtures/README.md).
import Foundation

public struct Fixture {
    public let path: String
    public let model: TransformerXL
    public let batch: Int
    public let segments: Int
    /// input[time][batch], time = segments * tgt_len + 1.
    public let input: [[UInt8]]
    /// expected[time - 1][batch]: natural-log probability of input[t + 1] given input[...t].
    public let expected: [[Float]]
    public let file: SafetensorsFile

    public init(path: String) throws {
        let f = try SafetensorsFile(path: path)
        let m = try TransformerXL(file: f)
        func fail(_ s: String) -> ModelError { .checkpoint(path: path, problem: s) }
        // Every field is checked before use, each message naming it.
        guard let info = f.tensors["fixture.input_bytes"], info.shape.count == 2 else {
            throw fail("not a parity fixture: no 2-D fixture.input_bytes")
        }
        let shape = info.shape
        let time = shape[0], batch = shape[1], T = m.config.tgtLen
        guard batch >= 1 && batch <= 4096 else {
            throw fail("fixture.input_bytes has batch \(batch), expected 1...4096")
        }
        guard time >= 2, (time - 1) % T == 0 else {
            throw fail("fixture.input_bytes has \(time) steps, not segments x \(T) + 1")
        }
        let raw = try f.ints("fixture.input_bytes")
        guard raw.allSatisfy({ (0...255).contains($0) }) else {
            throw fail("fixture.input_bytes holds values outside 0...255")
        }
        if let loss = f.tensors["grad.loss"], loss.count != 1 {
            throw fail("grad.loss has shape \(loss.shape), expected one value")
        }
        let exp = try f.floats("fixture.expected_logprob", shape: [time - 1, batch])
        self.path = path; self.model = m; self.batch = batch; self.segments = (time - 1) / T; self.file = f
        input = (0..<time).map { t in (0..<batch).map { UInt8(raw[t * batch + $0]) } }
        expected = (0..<(time - 1)).map { t in Array(exp[(t * batch)..<((t + 1) * batch)]) }
    }

    /// Segment s of stream-major inputs and targets, [B, T] each.
    public func segment(_ s: Int) -> (inputs: [UInt8], targets: [UInt8]) {
        let T = model.config.tgtLen
        var inp: [UInt8] = [], tgt: [UInt8] = []
        for b in 0..<batch {
            for i in 0..<T {
                inp.append(input[s * T + i][b])
                tgt.append(input[s * T + i + 1][b])
            }
        }
        return (inp, tgt)
    }

    /// Runs the inference path over all segments and returns the largest |delta log-prob| (nats).
    public func maxForwardDelta() throws -> Float {
        let c = model.config, T = c.tgtLen
        let run = try Inference(
            model: model, batch: batch, segment: T,
            options: RunOptions(config: c, memory: c.memLens, sameLength: c.sameLength, clampLen: c.clampLen))
        var worst: Float = 0
        for s in 0..<segments {
            let (inp, tgt) = segment(s)
            let out = run.step(inputs: inp, targets: tgt).logProbs
            for b in 0..<batch {
                for i in 0..<T {
                    let d = abs(out[b * T + i] - expected[s * T + i][b])
                    worst = d.isNaN ? .infinity : max(worst, d)
                }
            }
        }
        return worst
    }
}
