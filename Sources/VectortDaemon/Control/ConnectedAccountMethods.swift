import Engine
import Foundation
import Protocol

/// `Users.ConnectAccount`, `Users.ListAccounts`, `Users.DisconnectAccount`: users' own platform
/// accounts. No answer ever holds a token.
enum ConnectedAccountMethods {
    static func register(into table: inout MethodTable, accounts: ConnectedAccounts) {
        let user = ParameterDescriptor("user", .string, required: true, "user id")
        let platform = ParameterDescriptor("platform", .string, required: true, "github, vercel, netlify or render")
        table.register(
            MethodDescriptor(
                method: MethodName.usersConnectAccount, role: .client,
                parameters: [
                    user, platform,
                    ParameterDescriptor("token", .string, required: true, "the account's API token; stored encrypted, never returned"),
                ],
                summary: "Checks a token with the platform and stores it encrypted: the user's exports and deployments use it."),
            .async { _, p, _ in
                try await accounts.connect(user: p.required("user"), platform: p.required("platform"), token: p.required("token"))
            })
        table.register(
            MethodDescriptor(
                method: MethodName.usersListAccounts, role: .client, parameters: [user],
                summary: "The user's connected accounts: platform, account name, when checked."),
            .async { _, p, _ in try await accounts.list(user: p.required("user")) })
        table.register(
            MethodDescriptor(
                method: MethodName.usersDisconnectAccount, role: .client, parameters: [user, platform],
                summary: "Forgets the user's account on a platform; the operator's token is used again."),
            .async { _, p, _ in try await accounts.disconnect(user: p.required("user"), platform: p.required("platform")) })
    }
}
