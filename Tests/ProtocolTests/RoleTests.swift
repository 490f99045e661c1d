import Protocol
import Testing

@Suite("Role ordering")
struct RoleTests {
    @Test func adminRanksAboveClient() {
        #expect(Role.client < Role.admin)
        #expect(Role.admin >= Role.client)
        #expect(!(Role.admin < Role.client))
        #expect(Role.allCases.sorted() == [.client, .admin])
        #expect(Role.allCases.max() == .admin)
    }

    @Test func rolesTravelAsLowerCaseNames() {
        #expect(Role.admin.rawValue == "admin")
        #expect(Role.client.rawValue == "client")
    }
}
