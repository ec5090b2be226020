import Testing
@testable import Explorer
@testable import TXL

/// One head, 2 queries, memory 2: keys [m0 m1 q0 q1]; query 0 sees 3 keys, query 1 all 4.
func tinyAttention() -> AttentionCapture {
    AttentionCapture(
        layer: 0, heads: 2, queries: 2, keys: 4, memoryKeys: 2,
        probabilities: [
            0.5, 0.25, 0.25, 0, 0.1, 0.2, 0.3, 0.4,  // head 0
            0.1, 0.1, 0.8, 0, 0.3, 0.2, 0.1, 0.4,  // head 1
        ])
}

@Suite struct HeatmapTests {
    @Test func fullResolutionMeanOfHeadsMasksFutureKeys() {
        let v = Heatmap.downsample(
            tinyAttention(), head: .mean, reduction: .mean, queries: 0..<2, keys: 0..<4,
            rows: 10, cols: 10)
        #expect(v.rows == 2 && v.cols == 4)
        #expect(abs(v.value(0, 0) - 0.3) < 1e-6)
        #expect(v.value(0, 3).isNaN)  // masked: the future key
        #expect(abs(v.value(1, 3) - 0.4) < 1e-6)
        #expect(abs(v.maxValue - 0.525) < 1e-6)
    }

    @Test func minMeanAndMaxOverBinsIgnoreMaskedKeys() {
        let a = tinyAttention()
        let mx = Heatmap.downsample(a, head: .head(0), reduction: .max, queries: 0..<2, keys: 0..<4, rows: 1, cols: 2)
        #expect(mx.rows == 1 && mx.cols == 2)
        #expect(mx.value(0, 0) == 0.5)  // keys 0-1 over both queries
        #expect(mx.value(0, 1) == 0.4)
        let mn = Heatmap.downsample(a, head: .head(0), reduction: .min, queries: 0..<2, keys: 0..<4, rows: 1, cols: 2)
        #expect(mn.value(0, 1) == 0.25)  // the masked key does not count as 0
        let me = Heatmap.downsample(a, head: .head(0), reduction: .mean, queries: 0..<2, keys: 0..<4, rows: 1, cols: 2)
        #expect(abs(me.value(0, 1) - (0.25 + 0.3 + 0.4) / 3) < 1e-6)
        let hmax = Heatmap.downsample(a, head: .max, reduction: .max, queries: 0..<1, keys: 2..<3, rows: 1, cols: 1)
        #expect(hmax.value(0, 0) == 0.8)
        #expect(hmax.column(ofKey: 2) == 0 && hmax.column(ofKey: 1) == nil)
    }

    @Test func binsSplitEvenly() {
        #expect(Heatmap.binStarts(0..<10, parts: 3) == [0, 3, 6, 10])
        #expect(Heatmap.binStarts(5..<7, parts: 8) == [5, 6, 7])
    }

    @Test func thousandsOfKeysFitTheWidth() {
        let e = FakeEngine(segmentLength: 64, defaultMemory: [2000, 2000, 2000, 2000], maxMemory: 4096)
        let a = try! e.analyse(text: sampleText(4096), offset: 3000, memory: e.defaultMemory, cancelled: { false })
        let att = a.attention[3]
        #expect(att.keys == 2064 && att.memoryKeys == 2000)
        let v = Heatmap.downsample(
            att, head: .mean, reduction: .max, queries: 0..<64, keys: 0..<att.keys,
            rows: 28, cols: 48)
        #expect(v.rows == 28 && v.cols == 48 && v.keyStarts.last == 2064)
        #expect(v.column(ofKey: 2000) == 46)
    }

    @Test func levelsRiseWithValueOnLogAndLinearScales() {
        #expect(Heatmap.level(0, top: 1, scale: .log) == 0)
        #expect(Heatmap.level(.nan, top: 1, scale: .log) == 0)
        #expect(Heatmap.level(1, top: 1, scale: .log) == 15)
        #expect(Heatmap.level(1e-4, top: 1, scale: .log) == 0)
        #expect(Heatmap.level(0.03, top: 1, scale: .log) == 8)
        #expect(Heatmap.level(0.5, top: 1, scale: .linear) == 8)
        #expect(Heatmap.level(1e-6, top: 1, scale: .linear) == 1)
        #expect(abs(Heatmap.threshold(1, top: 1, scale: .log) - 1e-3) < 1e-12)
    }
}

@Suite struct DistanceProfileTests {
    @Test func binsAreLogSpaced() {
        #expect((0...9).map(DistanceProfile.bin(of:)) == [0, 1, 2, 2, 3, 3, 3, 3, 4, 4])
        #expect(DistanceProfile.range(ofBin: 3) == 4...7)
        #expect(DistanceProfile.binCount(maxDistance: 1023) == 11)
    }

    @Test func massMeanDistanceAndShareBeyondTheSegment() {
        let p = DistanceProfile(tinyAttention())
        // Total mass 4 (2 heads x 2 queries). Distances: q0 -> keys (2,1,0); q1 -> keys (3,2,1,0).
        // Memory keys: q0: 0.5+0.25+0.1+0.1 = 0.95; q1: 0.1+0.2+0.3+0.2 = 0.8.
        #expect(abs(p.beyondSegment - 1.75 / 4) < 1e-6)
        let d0 = 0.25 + 0.8 + 0.4 + 0.4, d1 = 0.25 + 0.1 + 0.3 + 0.1, d2 = 0.5 + 0.1 + 0.2 + 0.2, d3 = 0.1 + 0.3
        #expect(abs(p.meanDistance - (d1 + 2 * d2 + 3 * d3) / 4) < 1e-6)
        #expect(p.bins.count == 3)
        #expect(abs(p.bins[0] - d0 / 4) < 1e-6 && abs(p.bins[2] - (d2 + d3) / 4) < 1e-6)
        #expect(abs(p.bins.reduce(0, +) - 1) < 1e-9)
    }

    @Test func moreMemoryLooksFurther() {
        let e = FakeEngine()
        let text = sampleText()
        func profiles(_ memory: [Int]) -> [DistanceProfile] {
            DistanceProfile.all(try! e.analyse(text: text, offset: 300, memory: memory, cancelled: { false }))
        }
        let short = profiles([8, 8, 8, 8])
        let long = profiles([8, 8, 8, 256])
        #expect(long[3].meanDistance > short[3].meanDistance)
        #expect(long[3].beyondSegment > short[3].beyondSegment)
        #expect(long[0].bins.count == long[3].bins.count)
    }
}
