import Foundation
import Testing
@testable import Explorer

@Suite struct ExportTests {

    @Test func heatmapCSVIsTheFullMatrix() {
        let csv = Export.heatmapCSV(tinyAttention(), offset: 100, head: .head(0))
        let lines = csv.split(separator: "\n")
        #expect(lines[0] == "query,-2,-1,0,1")
        #expect(lines[1] == "100,0.5,0.25,0.25,0")
        #expect(lines[2] == "101,0.1,0.2,0.3,0.4")
        #expect(lines.count == 3)
    }

    @Test func attentionJSONHasTheSpecFields() throws {
        let json = Export.attentionJSON(tinyAttention(), offset: 100)
        let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        #expect(obj["layer"] as? Int == 0 && obj["offset"] as? Int == 100)
        let p = obj["probabilities"] as! [[[Double]]]
        #expect(p.count == 2 && p[1].count == 2 && p[1][0].count == 4 && p[1][0][2] == 0.8)
        let d = obj["distances"] as! [[Int]]
        #expect(d == [[2, 1, 0, -1], [3, 2, 1, 0]])
    }

    @Test func heatmapSVGHasARectPerBinALegendAndTheBoundary() {
        let v = Heatmap.downsample(
            tinyAttention(), head: .mean, reduction: .max, queries: 0..<2, keys: 0..<4,
            rows: 2, cols: 4)
        let svg = Export.heatmapSVG(v, title: "L0 <mean>", memoryKeys: 2, scale: .log)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("L0 &lt;mean&gt;"))
        // The page, the darkest level as the map's background, a rect per run of equal cells in a row, the legend.
        let rects = svg.components(separatedBy: "<rect").count - 1
        #expect(rects >= 2 + 2 + 16 && rects <= 2 + 8 + 16)
        #expect(svg.contains("<line"))
    }

    @Test func distanceCSVHasARowPerLayerAndSVGTheMeans() {
        let p = DistanceProfile(tinyAttention())
        let csv = Export.distanceCSV([p], memory: [2])
        let lines = csv.split(separator: "\n")
        #expect(lines[0] == "layer,memory,mean_distance,beyond_segment,d0,d1,d2_3")
        #expect(lines[1].hasPrefix("0,2,0.9875,0.4375,0.4625,0.1875,0.35"))
        let svg = Export.distanceSVG([p], segmentLength: 2, title: "t")
        #expect(svg.hasPrefix("<svg") && svg.contains("mean 1.0"))
    }

    @Test func runsCSVAndJSONCarryTheDeltaToTheBaseline() throws {
        let runs = [
            Run(id: 1, memory: [64, 64], stateFloats: 2048, bytes: 1000, bpc: 1.25, seconds: 2),
            Run(id: 2, memory: [0, 64], stateFloats: 1024, bytes: 1000, bpc: 1.5, seconds: 2),
        ]
        let csv = Export.runsCSV(runs, baseline: 1, defaultMemory: [64, 64])
        #expect(
            csv == """
                run,memory,state_floats,ratio_to_full,offset,bytes,bpc,delta_to_baseline,seconds
                1,"L0-1:64",2048,1,0,1000,1.25,0,2
                2,"L0:0 L1:64",1024,0.5,0,1000,1.5,0.25,2

                """)
        let json = Export.runsJSON(runs, baseline: 1, defaultMemory: [64, 64], model: "m\"1")
        let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        #expect(obj["model"] as? String == "m\"1" && obj["baseline"] as? Int == 1)
        let r = obj["runs"] as! [[String: Any]]
        #expect(r.count == 2 && r[1]["memory"] as? [Int] == [0, 64] && r[1]["delta_to_baseline"] as? Double == 0.25)
        // A run over other positions (another offset) has no Δ to the baseline.
        var moved = runs[1]
        moved.id = 3
        moved.offset = 500
        let csv3 = Export.runsCSV(runs + [moved], baseline: 1, defaultMemory: [64, 64])
        #expect(csv3.hasSuffix("3,\"L0:0 L1:64\",1024,0.5,500,1000,1.5,,2\n"))
        let json3 = Export.runsJSON(runs + [moved], baseline: 1, defaultMemory: [64, 64], model: "m")
        let r3 = (try JSONSerialization.jsonObject(with: Data(json3.utf8)) as! [String: Any])["runs"] as! [[String: Any]]
        #expect(r3[2]["offset"] as? Int == 500 && r3[2]["delta_to_baseline"] == nil && r3[2]["bpc"] as? Double == 1.5)
    }

    @Test func eachPaneNamesItsFilesAndWriteReportsThePaths() throws {
        var s = analysed(makeState())
        #expect(Export.files(for: .evaluation, state: s).isEmpty)
        #expect(
            Export.files(for: .attention, state: s).map(\.0)
                == [
                    "memscope-fake-4L-sample.txt-attention-L0-mean-L0-3=64-at0.csv",
                    "memscope-fake-4L-sample.txt-attention-L0-mean-L0-3=64-at0.svg",
                ])
        #expect(Export.files(for: .distance, state: s).count == 2)
        #expect(Export.files(for: .text, state: s)[0].1.hasPrefix("offset,byte,loss_bits\n0,84,"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("memscope-export-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = Export.write(.layers, state: s, directory: dir)
        guard case .exported(let paths) = a else { Issue.record("\(a)"); return }
        #expect(
            try String(contentsOfFile: paths[0], encoding: .utf8)
                .hasPrefix("layer,memory,kind,share,state_floats\n0,64,long,0.25,1024\n"))
        _ = reduce(&s, .worker(a))
        #expect(s.message == "wrote \(dir)/memscope-fake-4L-sample.txt-layers-L0-3=64.csv")
        if case .exportFailed = Export.write(.evaluation, state: s, directory: dir) {
        } else {
            Issue.record("expected a failure")
        }
    }

    /// Issue 8, finding 12: an export failure names the file and the problem in words.
    @Test func exportFailuresNameTheFileAndTheReason() throws {
        let s = analysed(makeState())
        let missing = "/nonexistent-memscope-\(getpid())/exports"
        guard case .exportFailed(let m1) = Export.write(.layers, state: s, directory: missing) else {
            Issue.record("wrote into a missing directory"); return
        }
        #expect(
            m1 == "cannot create \(missing)/memscope-fake-4L-sample.txt-layers-L0-3=64.csv: "
                + "No such file or directory")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("memscope-file-\(getpid())").path
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        guard case .exportFailed(let m2) = Export.write(.layers, state: s, directory: file) else {
            Issue.record("wrote below a plain file"); return
        }
        #expect(m2 == "cannot create \(file)/memscope-fake-4L-sample.txt-layers-L0-3=64.csv: Not a directory")
        #expect(!m2.contains("could not be completed"))
    }
}
