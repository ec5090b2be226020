import Testing
@testable import Explorer

@Suite struct CommandParserTests {
    func parse(_ s: String) -> Result<[Action], MemoryError> {
        CommandParser.parse(s, layers: 4, heads: 2, maxMemory: 256, textCount: 1000, long: 128, short: 16)
    }
    func text(_ s: String) -> String {
        switch parse(s) {
        case .success(let a): return a.map { "\($0)" }.joined(separator: ";")
        case .failure(let e): return "error: \(e)"
        }
    }

    @Test func memoryCommands() {
        #expect(text("mem 3 128") == "setMemory(layer: 3, length: 128)")
        #expect(text("mem L0-1:8,L2-3:32") == "setAllMemory([8, 8, 32, 32])")
        #expect(text("mem 64") == "setAllMemory([64, 64, 64, 64])")
        #expect(text("mem interleaved:2") == "setAllMemory([16, 128, 16, 128])")
        #expect(text("preset interleaved:2") == "applyPreset(interleaved:2)")
        #expect(text("preset full") == "applyPreset(full)")
        #expect(text("lrm 256") == "setLong(256)")
        #expect(text("srm 64") == "setShort(64)")
        #expect(text("q") == "quit")
        #expect(text("  ") == "")
    }

    @Test func otherCommands() {
        #expect(text("layer 2") == "setLayer(2)")
        #expect(text("head max") == "setHead(max)")
        #expect(text("head 1") == "setHead(head 1)")
        #expect(text("bytes 500") == "setEvalBytes(500)")
        #expect(text("goto 10") == "setCursor(10)")
        #expect(text("eval") == "startEval")
    }

    @Test func errorsCarryTheValue() {
        #expect(text("mem 3 9999") == "error: memory length 9999 is outside 0...256")
        #expect(text("mem 4 1") == "error: layer 4 does not exist (layers 0-3)")
        #expect(text("mem 3 x") == "error: a memory length must be a whole number, not x")
        #expect(text("preset sideways") == "error: unknown preset sideways (full, none, first:K, last:K, interleaved:K)")
        #expect(text("preset first:0") == "error: preset first:0: K must be a whole number >= 1")
        #expect(text("lrm") .hasPrefix("error: :lrm takes 1 argument"))
        #expect(text("head 2") == "error: head 2 does not exist (heads 0-1)")
        #expect(text("frobnicate").hasPrefix("error: unknown command :frobnicate"))
    }
}

@Suite struct MemoryPlanTests {
    @Test func presets() {
        #expect(Preset.full.lengths(layers: 6, long: 512, short: 64) == [512, 512, 512, 512, 512, 512])
        #expect(Preset.none.lengths(layers: 3, long: 512, short: 64) == [0, 0, 0])
        #expect(Preset.first(2).lengths(layers: 4, long: 9, short: 1) == [9, 9, 1, 1])
        #expect(Preset.last(1).lengths(layers: 4, long: 9, short: 1) == [1, 1, 1, 9])
        #expect(Preset.interleaved(3).lengths(layers: 6, long: 9, short: 1) == [1, 9, 1, 9, 1, 9])
        for p in Preset.cycle { #expect(try! Preset.parse(p.description) == p) }
    }

    @Test func specsAndCompactFormRoundTrip() throws {
        let m = [64, 64, 64, 512, 512, 0]
        let c = MemoryPlan.compact(m)
        #expect(c == "L0-2:64 L3-4:512 L5:0")
        #expect(try MemoryPlan.parse(c, layers: 6, long: 512, short: 64, maxMemory: 1024) == m)
        #expect(try MemoryPlan.parse("64,64,64,512,512,0", layers: 6, long: 512, short: 64, maxMemory: 1024) == m)
        #expect(try MemoryPlan.parse("last:2", layers: 6, long: 512, short: 64, maxMemory: 1024) == [64, 64, 64, 64, 512, 512])
        #expect(throws: MemoryError.invalid("memory length 2048 for layer 0 is outside 0...1024")) {
            try MemoryPlan.parse("2048", layers: 6, long: 512, short: 64, maxMemory: 1024)
        }
        #expect(throws: MemoryError.invalid("\"L0-2:64\" leaves layer 3 without a length")) {
            try MemoryPlan.parse("L0-2:64", layers: 6, long: 512, short: 64, maxMemory: 1024)
        }
        #expect(throws: MemoryError.invalid("\"1,2\" gives 2 lengths but the model has 6 layers")) {
            try MemoryPlan.parse("1,2", layers: 6, long: 512, short: 64, maxMemory: 1024)
        }
    }

    @Test func stateSizeAndRatio() {
        // The paper's count: sum of memory lengths x d_model.
        #expect(MemoryPlan.stateFloats([512, 512, 64], dModel: 10) == 10880)
        #expect(MemoryPlan.ratio([64, 64, 64, 512], to: [512, 512, 512, 512]) == 704.0 / 2048.0)
        #expect(MemoryPlan.ratio([1], to: [0]).isNaN)
    }
}
