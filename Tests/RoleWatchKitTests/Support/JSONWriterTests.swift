import Foundation
import Testing

@testable import RoleWatchKit

@Suite struct JSONWriterTests {
    @Test func escapesQuotesBackslashesAndControlCharactersOnly() {
        var text = ""
        JSONWriter.appendString("a\"b\\c\nd\re\tf\u{0}\u{1F}\u{7F}é😀/", to: &text)
        #expect(text == #""a\"b\\c\nd\re\tf\u0000\u001f"# + "\u{7F}é😀/\"")
    }

    /// Random texts of every kind of character (controls, quotes, two- to four-byte characters)
    /// read back as the same text by Foundation's JSON reader.
    @Test(arguments: [1 as UInt64, 2, 3])
    func whatItWritesReadsBackAsTheSameText(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let alphabet: [Character] = ["a", "Z", "0", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{8}", "\u{1F}", " ", "é", "€", "😀", "\u{7F}"]
        for _ in 0..<200 {
            let value = String((0..<Int(random.next() % 40)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            var text = ""
            JSONWriter.appendString(value, to: &text)
            #expect(try JSONDecoder().decode(String.self, from: Data(text.utf8)) == value)
        }
    }
}
