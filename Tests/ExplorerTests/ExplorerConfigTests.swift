import Foundation
import Testing
@testable import Explorer

@Suite struct ExplorerConfigTests {
    @Test func readsEveryKeyWithCommentsAndBlankLines() throws {
        let text = """
            # my defaults
            model = ~/models/big.safetensors   # trained on the cluster

              color=8
            ascii = yes
            mouse = off
            export-dir = /tmp/out
            split = valid
            mem = interleaved:2
            """
        let c = try ExplorerConfig.parse(text, file: "cfg", home: "/home/ada")
        #expect(c.model == "/home/ada/models/big.safetensors")
        #expect(c.color == "8")
        #expect(c.ascii == true)
        #expect(c.mouse == false)
        #expect(c.exportDir == "/tmp/out")
        #expect(c.split == "valid")
        #expect(c.mem == "interleaved:2")
    }

    @Test func emptyFileSetsNothing() throws {
        #expect(try ExplorerConfig.parse("\n# nothing\n", file: "cfg", home: nil) == ExplorerConfig())
    }

    @Test func badLinesNameTheFileAndLine() {
        func message(_ text: String) -> String {
            do { _ = try ExplorerConfig.parse(text, file: "cfg", home: nil); return "" } catch { return "\(error)" }
        }
        #expect(
            message("color = 8\ncolour = 8")
                == "cfg:2: unknown key \"colour\" (known: model, split, mem, color, ascii, mouse, export-dir)")
        #expect(message("ascii") == "cfg:1: expected `key = value`, got \"ascii\"")
        #expect(message("mouse = maybe") == "cfg:1: mouse must be true or false, not \"maybe\"")
        #expect(message("model =   ") == "cfg:1: model has no value")
    }

    @Test func pathFollowsXDG() {
        #expect(ExplorerConfig.path(environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"]) == "/x/memscope/config")
        #expect(
            ExplorerConfig.path(environment: ["XDG_CONFIG_HOME": "", "HOME": "/h"]) == "/h/.config/memscope/config")
        #expect(ExplorerConfig.path(environment: [:]) == nil)
    }

    @Test func missingFileIsAnEmptyConfig() throws {
        let c = try ExplorerConfig.load(path: "/nonexistent/memscope/config", home: nil)
        #expect(c == ExplorerConfig())
    }
}
