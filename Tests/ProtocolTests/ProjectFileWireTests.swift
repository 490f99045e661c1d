import Foundation
import Protocol
import Testing

@Suite("ProjectFile on the wire: text as contents, other bytes as contents_base64")
struct ProjectFileWireTests {
    @Test func textTravelsAsContentsAndBinaryAsBase64() throws {
        let text = ProjectFile(path: "a.txt", contents: "x\u{0}y")
        let encoded = try JSONDecoder().decode(JSONValue.self, from: try WireCoding.encoder.encode(text))
        #expect(encoded == ["path": "a.txt", "contents": "x\u{0}y"])

        let binary = ProjectFile(path: "b.bin", bytes: [0xFF, 0x00, 0xFE])
        let wire = try JSONDecoder().decode(JSONValue.self, from: try WireCoding.encoder.encode(binary))
        #expect(wire == ["path": "b.bin", "contents_base64": "/wD+"])
        #expect(try WireCoding.decoder.decode(ProjectFile.self, from: try WireCoding.encoder.encode(binary)) == binary)
        #expect(binary.byteCount == 3)
    }

    @Test func utf8BytesMakeATextFile() {
        let file = ProjectFile(path: "c.txt", bytes: Array("héllo".utf8))
        #expect(!file.isBinary)
        #expect(file.contents == "héllo")
        #expect(file.byteCount == 6)
    }

    @Test func base64ThatIsNotBase64IsRefused() {
        #expect(throws: DecodingError.self) {
            try WireCoding.decoder.decode(ProjectFile.self, from: Data(#"{"path":"x","contents_base64":"*"}"#.utf8))
        }
    }
}
