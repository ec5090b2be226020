// Hugging Face parity fixtures (scripts/make-hf-fixtures.py): a model folder plus expected.json, transformers'
// per-token log-probabilities over several segments with memories carried. `memscope verify DIR` checks them.
import Foundation

public struct HFFixture {
    public let model: HFCheckpoint
    public let segment: Int, lastSegment: Int
    public let tokenIds: [[Int]]
    public let logProbs: [[Double]]

    public init(directory: String) throws {
        let path = (directory as NSString).appendingPathComponent("expected.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.checkpoint(path: path, problem: "no such file (not a parity fixture folder)")
        }
        let d = try JSONValue.object(data, path: path)
        func fail(_ field: String, _ s: String) -> ModelError {
            .checkpoint(path: path, problem: "field \"\(field)\" \(s)")
        }
        func int(_ k: String) throws -> Int {
            guard case .int(let n)? = d[k], n >= 1 else { throw fail(k, "is missing or not a positive integer") }
            return n
        }
        func lists(_ k: String) throws -> [[JSONValue]] {
            guard case .array(let a)? = d[k] else { throw fail(k, "is missing or not a list") }
            return try a.map {
                guard case .array(let x) = $0 else { throw fail(k, "holds \($0), not a list") }
                return x
            }
        }
        segment = try int("segment"); lastSegment = try int("last_segment")
        tokenIds = try lists("token_ids").map {
            try $0.map { v in
                guard case .int(let n) = v else { throw fail("token_ids", "holds \(v), not an integer") }
                return n
            }
        }
        logProbs = try lists("log_probs").map {
            try $0.map { v in
                guard let x = v.number else { throw fail("log_probs", "holds \(v), not a number") }
                return x
            }
        }
        guard tokenIds.count == logProbs.count, zip(tokenIds, logProbs).allSatisfy({ $0.count == $1.count + 1 }) else {
            throw fail("log_probs", "does not have one value per predicted token of token_ids")
        }
        model = try HFCheckpoint(directory: directory)
        if let bad = tokenIds.joined().first(where: { $0 < 0 || $0 >= model.config.vocabSize }) {
            throw fail("token_ids", "holds \(bad), outside the vocabulary 0-\(model.config.vocabSize - 1)")
        }
    }

    /// The optimised runtime (`Inference`, one stream at a time, memory mem_len in every layer) against the
    /// fixture: the worst |Δ log-prob| overall and in each stream's last (partial) segment, and the tokens compared.
    public func maxForwardDelta() throws -> (all: Double, last: Double, tokens: Int) {
        let c = model.config, net = Network(model)
        let options = RunOptions(
            memory: Array(repeating: c.memLen, count: c.nLayer), sameLength: c.sameLength, clampLen: c.clampLen)
        var worst = 0.0, worstLast = 0.0, count = 0
        for (ids, want) in zip(tokenIds, logProbs) {
            let run = try Inference(network: net, batch: 1, segment: segment, options: options)
            var got: [Float] = [], s = 0
            while s + 1 < ids.count {
                let end = min(s + segment, ids.count - 1)
                got += run.step(tokens: Array(ids[s..<end]), targets: Array(ids[(s + 1)...end])).logProbs
                s = end
            }
            for (i, (g, w)) in zip(got, want).enumerated() {
                let d = abs(Double(g) - w), delta = d.isNaN ? .infinity : d
                worst = max(worst, delta)
                if i >= want.count - lastSegment { worstLast = max(worstLast, delta) }
                count += 1
            }
        }
        return (worst, worstLast, count)
    }
}
