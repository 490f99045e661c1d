/// Who is calling, decided once per connection from SO_PEERCRED (PROTOCOL.md "Roles").
/// Roles are ordered: an admin may call everything a client may.
public enum Role: String, Sendable, Codable, Hashable, Comparable, CaseIterable {
    case client
    case admin

    public static func < (lhs: Role, rhs: Role) -> Bool {
        lhs.rank < rhs.rank
    }

    private var rank: Int {
        switch self {
        case .client: 0
        case .admin: 1
        }
    }
}
