import Glibc
import Protocol

/// Decides a connection's role from its peer credentials (PROTOCOL.md "Roles").
///
/// admin: uid 0, the daemon's own uid, or a member (primary or supplementary) of the admin
/// group; client: a member of the client group; anyone else is refused (`nil`).
struct RoleResolver: Sendable, Equatable {
    var daemonUID: UInt32
    var adminGID: UInt32?
    var clientGID: UInt32?

    init(adminGroup: String, clientGroup: String, daemonUID: UInt32 = getuid()) {
        self.daemonUID = daemonUID
        self.adminGID = Self.groupID(adminGroup)
        self.clientGID = Self.groupID(clientGroup)
    }

    func role(for peer: PeerCredentials) -> Role? {
        if peer.uid == 0 || peer.uid == daemonUID { return .admin }
        let groups = Self.groups(uid: peer.uid, primaryGID: peer.gid)
        if let adminGID, groups.contains(adminGID) { return .admin }
        if let clientGID, groups.contains(clientGID) { return .client }
        return nil
    }

    /// A group name, or a numeric gid written as digits.
    static func groupID(_ name: String) -> UInt32? {
        if let numeric = UInt32(name) { return numeric }
        var group = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        let rc = getgrnam_r(name, &group, &buffer, buffer.count, &result)
        guard rc == 0, result != nil else { return nil }
        return group.gr_gid
    }

    /// The primary gid of the connection plus the supplementary groups of the uid's account.
    static func groups(uid: UInt32, primaryGID: UInt32) -> Set<UInt32> {
        var groups: Set<UInt32> = [primaryGID]
        var passwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getpwuid_r(uid, &passwd, &buffer, buffer.count, &result) == 0, result != nil, let name = passwd.pw_name
        else {
            return groups
        }
        groups.insert(passwd.pw_gid)
        var count: Int32 = 64
        var list = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, primaryGID, &list, &count) < 0 {
            list = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(name, primaryGID, &list, &count)
        }
        groups.formUnion(list.prefix(Int(max(count, 0))))
        return groups
    }
}
