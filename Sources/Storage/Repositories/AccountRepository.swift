package import Foundation
package import Protocol

/// Users' connected platform accounts. Tokens arrive and leave sealed: this layer never sees
/// one in clear text.
package protocol AccountRepository: Sendable {
    /// Stores (or replaces) the user's account on `account.platform`.
    func connect(user: String, _ account: ConnectedAccount, sealedToken: String, keyID: String) async throws -> ConnectedAccount
    func list(user: String) async throws -> [ConnectedAccount]
    /// The sealed token of the user's account on `platform`, if connected.
    func sealedToken(user: String, platform: String) async throws -> String?
    /// The account removed, if there was one.
    func disconnect(user: String, platform: String) async throws -> ConnectedAccount?
    /// Accounts whose token is sealed under a key other than `keyID`: (user, platform, sealed).
    func sealed(notUnder keyID: String) async throws -> [(user: String, platform: String, sealed: String)]
    /// Replaces a sealed token if it is still `old` (a reconnect meanwhile wins).
    func reseal(user: String, platform: String, old: String, new: String, keyID: String) async throws -> Bool
}
