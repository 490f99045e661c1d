import Logging
import Testing

@testable import VectortDaemon

@Suite("JournaldLogHandler field names and priorities")
struct JournaldLogHandlerTests {
    @Test(arguments: [
        ("request.id", "VECTORT_REQUEST_ID"),
        ("user", "VECTORT_USER"),
        ("peer-uid", "VECTORT_PEER_UID"),
        ("error.reference", "VECTORT_ERROR_REFERENCE"),
        ("Provider.Name2", "VECTORT_PROVIDER_NAME2"),
        ("naïve key", "VECTORT_NA_VE_KEY"),
    ])
    func metadataKeysBecomeUpperCaseJournalFields(key: String, field: String) {
        #expect(JournaldLogHandler.fieldName(key) == field)
    }

    @Test func fieldNamesUseOnlyJournalSafeCharacters() {
        let name = JournaldLogHandler.fieldName("a.b-c d/é_9")
        #expect(name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
    }

    @Test func fieldNamesAreCutTo64Characters() {
        let name = JournaldLogHandler.fieldName(String(repeating: "k", count: 100))
        #expect(name.count == 64)
        #expect(name == "VECTORT_" + String(repeating: "K", count: 56))
        #expect(JournaldLogHandler.fieldName(String(repeating: "k", count: 56)).count == 64)
    }

    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func levelsMapToSyslogPriorities(level: Logger.Level, priority: Int) {
        #expect(JournaldLogHandler.priority(level) == priority)
    }
}
