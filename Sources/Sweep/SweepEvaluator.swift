// `memscope sweep eval`: one model at every arrangement of a grid (placements x lrm x srm), every cell on exactly the
// same bytes: the post-hoc version of Rae & Razavi's experiment (memory cut after training, not trained with).
import Analysis
import Corpus
import Foundation
import TXL
import Training

public final class SweepEvaluator {
    /// Evaluates `text` at `memory`; tests replace it to see what each cell is given.
    public typealias Evaluate = (_ text: [UInt8], _ memory: [Int], _ progress: @escaping (EvalProgress) -> Bool) throws
        -> EvalResult

    public let cells: [SweepCell]
    let model: TransformerXL
    let modelPath: String
    let text: [UInt8]
    let textSHA: String
    let header: [String: String]
    let offset: Int
    let splitSHA256: String?
    let folder: SweepFolder
    let command: String
    let log: (String) -> Void
    let shouldStop: () -> Bool
    let evaluate: Evaluate

    /// Placements x lrm x srm, without repeats: `full` ignores srm and `none` ignores lrm.
    public static func grid(placements: [String], lrms: [Int], srms: [Int]) -> [SweepCell] {
        var out: [SweepCell] = []
        for p in placements {
            for l in (p == "none" ? [lrms[0]] : lrms) {
                for s in (p == "full" ? [srms[0]] : srms) {
                    let c = SweepCell(placement: p, lrm: l, srm: s, seed: nil)
                    if !out.contains(c) { out.append(c) }
                }
            }
        }
        return out
    }

    public init(
        model: TransformerXL, modelPath: String, cells: [SweepCell], text: [UInt8], textDescription: String,
        offset: Int,
        splitSHA256: String?, folder: SweepFolder, command: String, log: @escaping (String) -> Void,
        shouldStop: @escaping () -> Bool, evaluate: Evaluate? = nil
    ) throws {
        guard !cells.isEmpty else { throw SweepError.bad("the sweep has no cells") }
        guard text.count >= 2 else { throw SweepError.bad("the text has \(text.count) bytes; bpc needs at least 2") }
        for c in cells {
            let memory = try c.memory(layers: model.config.nLayer)
            do { try RunOptions(config: model.config, memory: memory).validate(layers: model.config.nLayer) } catch let
                e as ModelError
            { throw SweepError.bad("cell \(c.name(withLRM: true)): \(e.description)") }
        }
        self.model = model; self.modelPath = modelPath; self.cells = cells; self.text = text; self.offset = offset
        self.splitSHA256 = splitSHA256; self.folder = folder; self.command = command; self.log = log
        self.shouldStop = shouldStop
        textSHA = Digest.sha256Hex(text)
        header = [
            "kind": "eval", "model": modelPath, "model_config": model.config.json(), "text": textDescription,
            "text_sha256": textSHA, "text_bytes": "\(text.count)", "offset": "\(offset)",
            "segment": "\(model.config.tgtLen)",
            "cells": cells.map { $0.name(withLRM: true) }.joined(separator: ","),
        ]
        self.evaluate =
            evaluate ?? { [model] text, memory, progress in
                try Evaluator.evaluate(
                    model: model, text: text, options: RunOptions(config: model.config, memory: memory),
                    segment: model.config.tgtLen, batch: 1, progress: progress)
            }
    }

    public func run() throws -> SweepOutcome {
        try folder.claim(settings: header, kind: "eval")
        var records = try folder.records()
        let done = Set(records.map(\.name))
        log(
            "sweep eval: \(cells.count) cells, \(done.count) finished; \(text.count) bytes, "
                + "sha256 \(textSHA.prefix(16))"
        )
        let start = Date()
        var ran = 0
        let todo = cells.filter { !done.contains($0.name(withLRM: true)) }.count
        for (i, cell) in cells.enumerated() {
            let name = cell.name(withLRM: true)
            if done.contains(name) { continue }
            let memory = try cell.memory(layers: model.config.nLayer)
            let tag = "cell \(i + 1)/\(cells.count) \(name)"
            var lastPrint = Date.distantPast
            let result: EvalResult
            do {
                result = try evaluate(text, memory) { [shouldStop, log] p in
                    if Date().timeIntervalSince(lastPrint) > 30 {
                        lastPrint = Date()
                        let perCell =
                            ran > 0 ? Date().timeIntervalSince(start) / Double(ran) : p.seconds / max(p.fraction, 1e-9)
                        let left = perCell * (1 - p.fraction) + perCell * Double(todo - ran - 1)
                        log(
                            "\(tag) | \(Int(p.fraction * 100))% | bpc \(String(format: "%.4f", p.bpc)) | "
                                + "sweep ETA \(formatDuration(left))"
                        )
                    }
                    return !shouldStop()
                }
            } catch AnalysisError.cancelled {
                log("\(tag): stopped; rerun the same command to continue (finished cells are kept)")
                return .stopped
            }
            ran += 1
            var r = SweepRecord(
                name: name, placement: cell.placement, longLayers: cell.longLayers(layers: model.config.nLayer),
                lrm: cell.lrm, srm: cell.srm, seed: nil, memory: memory, memoryFloats: result.memoryFloats,
                testBPC: result.bpc, testBytes: text.count, testOffset: offset, textSHA256: textSHA,
                splitSHA256: splitSHA256, evalSeconds: result.seconds, model: modelPath)
            r.curve = nil
            records.append(r)
            records = SweepTables.ordered(records, by: cells.map { $0.name(withLRM: true) })
            try publish(records)
            log(
                "\(tag): bpc \(SweepTables.f4(result.bpc)) (\(MemorySpec.compact(memory)), "
                    + "\(String(format: "%.0f", result.seconds)) s)"
            )
        }
        try publish(records)
        return .finished
    }

    func publish(_ records: [SweepRecord]) throws {
        let notes = [
            "Written by `\(command)`.", "", "Model: \(modelPath). Text: \(header["text"]!), sha256 \(textSHA).",
        ]
        try folder.publish(
            records, header: header, title: "Evaluation sweep", notes: notes, layers: model.config.nLayer)
    }
}
