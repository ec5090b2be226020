// Finite-difference checks of every backward pass, and of the whole model, at tiny sizes.
import Foundation
import Testing
import TXL
@testable import Training

/// Central differences of a Float function in Double: (f(x + h) - f(x - h)) / 2h.
func numericGradient(_ x: UnsafeMutablePointer<Float>, _ i: Int, h: Float = 1e-2, _ f: () -> Double) -> Double {
    let old = x[i]
    x[i] = old + h; let up = f()
    x[i] = old - h; let down = f()
    x[i] = old
    return (up - down) / Double(2 * h)
}

func randomArray(_ n: Int, _ rng: inout Random, scale: Float = 1) -> [Float] {
    (0..<n).map { _ in rng.normal() * scale }
}

func dot(_ a: UnsafePointer<Float>, _ b: [Float]) -> Double {
    b.indices.reduce(0.0) { $0 + Double(a[$1]) * Double(b[$1]) }
}

func close(_ analytic: Double, _ numeric: Double, rel: Double = 2e-2, abs: Double = 2e-3) -> Bool {
    Swift.abs(analytic - numeric) <= abs + rel * max(Swift.abs(analytic), Swift.abs(numeric))
}

@Suite struct KernelGradients {
    @Test func layerNorm() {
        var rng = Random(seed: 7)
        let N = 3, C = 7
        var x = randomArray(N * C, &rng), w = randomArray(C, &rng), b = randomArray(C, &rng)
        let g = randomArray(N * C, &rng)
        var out = [Float](repeating: 0, count: N * C), mean = [Float](repeating: 0, count: N), rstd = mean
        var dx = [Float](repeating: 0, count: N * C), dw = [Float](repeating: 0, count: C), db = dw
        func loss() -> Double {
            LayerNorm.forward(&out, mean: &mean, rstd: &rstd, x, w, b, N: N, C: C, eps: 1e-5)
            return dot(out, g)
        }
        _ = loss()
        LayerNorm.backward(dinp: &dx, dweight: &dw, dbias: &db, g, x, w, mean: mean, rstd: rstd, N: N, C: C)
        for i in 0..<(N * C) { #expect(close(Double(dx[i]), numericGradient(&x, i, h: 1e-3, loss)), "dx[\(i)]") }
        for i in 0..<C {
            #expect(close(Double(dw[i]), numericGradient(&w, i, h: 1e-3, loss)), "dw[\(i)]")
            #expect(close(Double(db[i]), numericGradient(&b, i, h: 1e-3, loss)), "db[\(i)]")
        }
    }

    @Test func linear() {
        var rng = Random(seed: 8)
        let N = 5, I = 3, O = 4
        var x = randomArray(N * I, &rng), w = randomArray(O * I, &rng), b = randomArray(O, &rng)
        let g = randomArray(N * O, &rng)
        var out = [Float](repeating: 0, count: N * O)
        func loss() -> Double { Linear.forward(&out, x, w, b, N: N, I: I, O: O); return dot(out, g) }
        var dx = [Float](repeating: 0, count: N * I), dw = [Float](repeating: 0, count: O * I),
            db = [Float](repeating: 0, count: O)
        Linear.backward(dinp: &dx, dweight: &dw, dbias: &db, g, x, w, N: N, I: I, O: O)
        for i in 0..<(N * I) { #expect(close(Double(dx[i]), numericGradient(&x, i, loss))) }
        for i in 0..<(O * I) { #expect(close(Double(dw[i]), numericGradient(&w, i, loss))) }
        for i in 0..<O { #expect(close(Double(db[i]), numericGradient(&b, i, loss))) }
    }

    /// Every input of one attention head, with memory, same-length windows and attention dropout.
    @Test(arguments: [(0, 0, false), (3, 0, false), (4, 3, false), (2, 0, true)])
    func relativeAttention(mlen: Int, window: Int, drop: Bool) {
        var rng = Random(seed: UInt64(11 + mlen + window))
        let t = 4, D = 3, klen = mlen + t, scale: Float = 0.6
        var q = randomArray(t * D, &rng), k = randomArray(klen * D, &rng), v = randomArray(klen * D, &rng)
        var r = randomArray(klen * D, &rng), rw = randomArray(D, &rng), rr = randomArray(D, &rng)
        let mask: [Float] = (0..<(t * klen)).map { _ in drop && rng.uniform() < 0.3 ? 0 : (drop ? 1 / 0.7 : 1) }
        let g = randomArray(t * D, &rng)
        var vec = [Float](repeating: 0, count: t * D), probs = [Float](repeating: 0, count: t * klen)
        var s1 = probs, s2 = probs, qb = vec, qb2 = vec
        func loss() -> Double {
            RelativeAttention.forward(
                &vec, ldo: D, probs: &probs, bd: &s1, qb: &qb, q: q, ldq: D, k: k, v: v, ldkv: D,
                r: r, ldr: D, rw: rw, rr: rr, t: t, mlen: mlen, D: D, window: window, scale: scale,
                dropMask: drop ? mask : nil)
            return dot(vec, g)
        }
        _ = loss()
        var dq = [Float](repeating: 0, count: t * D), dk = [Float](repeating: 0, count: klen * D), dv = dk, dr = dk
        var drw = [Float](repeating: 0, count: D), drr = drw
        RelativeAttention.backward(
            dq: &dq, ldq: D, dk: &dk, dv: &dv, dr: &dr, ldr: D, drw: &drw, drr: &drr,
            dp: &s1, dbd: &s2, qb: &qb, dqb: &qb2, g, ldo: D, probs: probs, q: q, k: k, v: v, ldkv: D,
            r: r, rw: rw, rr: rr, t: t, mlen: mlen, D: D, window: window, scale: scale,
            dropMask: drop ? mask : nil)
        for i in 0..<(t * D) { #expect(close(Double(dq[i]), numericGradient(&q, i, loss)), "dq[\(i)]") }
        for i in 0..<(klen * D) {
            #expect(close(Double(dk[i]), numericGradient(&k, i, loss)), "dk[\(i)]")
            #expect(close(Double(dv[i]), numericGradient(&v, i, loss)), "dv[\(i)]")
            #expect(close(Double(dr[i]), numericGradient(&r, i, loss)), "dr[\(i)]")
        }
        for i in 0..<D {
            #expect(close(Double(drw[i]), numericGradient(&rw, i, loss)), "drw[\(i)]")
            #expect(close(Double(drr[i]), numericGradient(&rr, i, loss)), "drr[\(i)]")
        }
    }

    @Test func crossEntropy() {
        var rng = Random(seed: 9)
        let N = 3, V = 5
        var logits = randomArray(N * V, &rng)
        let targets: [UInt8] = [0, 4, 2]
        var scratch = logits, lp = [Float](repeating: 0, count: N)
        func loss() -> Double {
            scratch = logits
            Output.logSoftmax(&lp, logits: &scratch, targets: targets, N: N, V: V, keepProbs: true)
            return -lp.reduce(0.0) { $0 + Double($1) } / Double(N)
        }
        _ = loss()
        var grad = scratch
        Output.crossEntropyBackward(&grad, targets: targets, N: N, V: V, scale: 1 / Float(N))
        for i in 0..<(N * V) { #expect(close(Double(grad[i]), numericGradient(&logits, i, h: 1e-3, loss))) }
    }
}

func tinyModel(preLnorm: Bool, sameLength: Bool = false, memory: [Int], seed: UInt64) -> TransformerXL {
    let c = Config(
        nLayer: memory.count, nHead: 2, dModel: 8, dHead: 4, dInner: 12, tgtLen: 5, memLens: memory,
        sameLength: sameLength, clampLen: sameLength ? 6 : -1, preLnorm: preLnorm)
    let m = TransformerXL(config: c)
    m.initialise(seed: seed)
    // Larger weights than the 0.02 initialisation, so every path carries a visible gradient.
    var rng = Random(seed: seed)
    for i in m.params.storage.indices { m.params.storage[i] += 0.3 * rng.normal() }
    return m
}

@Suite struct ModelGradients {
    /// d(loss of segment 2)/d(every parameter), segment 1's memory held constant, against central differences.
    @Test(arguments: [(false, false, [0, 3, 7]), (true, false, [4, 4]), (true, true, [6, 2])])
    func wholeModel(preLnorm: Bool, sameLength: Bool, memory: [Int]) throws {
        let m = tinyModel(preLnorm: preLnorm, sameLength: sameLength, memory: memory, seed: 3)
        let grads = ParameterStore(config: m.config)
        let B = 2, T = 5
        var rng = Random(seed: 5)
        let seg1 = (0..<(B * T)).map { _ in UInt8(rng.next() % 256) },
            seg2 = (0..<(B * T)).map { _ in UInt8(rng.next() % 256) }
        let tgt2 = (0..<(B * T)).map { _ in UInt8(rng.next() % 256) }
        let pass = try TrainingPass(model: m, grads: grads, batch: B, segment: T, memory: memory)
        pass.forward(inputs: seg1, targets: seg1, training: false)
        let saved = pass.memory
        pass.forward(inputs: seg2, targets: tgt2, training: false)
        pass.backward()
        func loss() -> Double {
            pass.memory = saved
            return Double(pass.forward(inputs: seg2, targets: tgt2, training: false))
        }
        var checked = 0
        for spec in m.params.specs {
            let p = m.params.pointer(spec.name), g = grads.pointer(spec.name)
            // A few coordinates of each tensor (embedding: the rows in use).
            let picks =
                spec.name.hasPrefix("word_emb")
                ? [Int(seg2[0]) * 8, Int(tgt2[1]) * 8 + 3] : [0, spec.count / 2, spec.count - 1]
            for i in picks {
                let numeric = numericGradient(p, i, h: 5e-3, loss)
                #expect(close(Double(g[i]), numeric, rel: 3e-2, abs: 3e-3), "\(spec.name)[\(i)]: \(g[i]) vs \(numeric)")
                checked += 1
            }
        }
        #expect(checked > 30)
    }

    /// The training forward and the inference forward are one computation.
    @Test func trainingForwardMatchesInference() throws {
        let memory = [0, 3, 9]
        let m = tinyModel(preLnorm: false, memory: memory, seed: 4)
        let pass = try TrainingPass(
            model: m, grads: ParameterStore(config: m.config), batch: 2, segment: 5, memory: memory)
        let inf = try Inference(model: m, batch: 2, segment: 5, options: RunOptions(config: m.config, memory: memory))
        var rng = Random(seed: 6)
        for _ in 0..<4 {
            let x = (0..<10).map { _ in UInt8(rng.next() % 256) }, y = (0..<10).map { _ in UInt8(rng.next() % 256) }
            pass.forward(inputs: x, targets: y, training: false)
            let a = pass.lastLogProbs, b = inf.step(inputs: x, targets: y).logProbs
            for i in a.indices { #expect(abs(a[i] - b[i]) < 1e-4) }
        }
    }
}
