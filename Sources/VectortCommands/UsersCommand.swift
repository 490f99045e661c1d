import ArgumentParser
import Foundation
import Protocol

struct Users: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, show and disable users; connect their own platform accounts.",
        subcommands: [
            Create.self, List.self, Show.self, Disable.self, Connect.self, Accounts.self, Disconnect.self,
        ])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user; the user receives the configured free credits.",
            discussion: """
                The email must be unique (case-insensitive): an existing one exits 2 with io.vectort.AlreadyExists. \
                A password is never taken as an argument (it would show in ps and shell history): \
                with --password-stdin, standard input is the password (one final line break is dropped), \
                8 characters or more.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The user's email address.")
        var email: String

        @Option(name: .long, help: "The user's full name.")
        var fullName: String?

        @Flag(name: .long, help: "Read the password from standard input.")
        var passwordStdin = false

        func run() throws {
            var parameters: [String: JSONValue] = ["email": .string(email)]
            if let fullName { parameters["full_name"] = .string(fullName) }
            if passwordStdin { parameters["password"] = .string(try Self.readPassword()) }
            try global.run {
                let user = try decode(User.self, try global.connect().call(MethodName.usersCreate, parameters))
                Output.render(user, as: global.format)
            }
        }

        /// Standard input up to its end, without the line break that ends it.
        static func readPassword() throws -> String {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard var text = String(data: data, encoding: .utf8) else {
                throw ValidationError("the password on standard input is not UTF-8 text")
            }
            if text.hasSuffix("\n") { text.removeLast() }
            if text.hasSuffix("\r") { text.removeLast() }
            guard !text.isEmpty else { throw ValidationError("--password-stdin: standard input is empty") }
            return text
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users, oldest first (admin).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var page: PageOptions

        func run() throws {
            try global.run {
                let client = try global.connect()
                let users = try page.fetch(
                    [:], call: { try decode(UserPage.self, try client.call(MethodName.usersList, $0)) },
                    next: \.nextAfter, merge: { $0.users += $1.users; $0.nextAfter = $1.nextAfter })
                Output.render(users, as: global.format)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one user.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "User id (u_…).")
        var user: String

        func run() throws {
            try global.run {
                let user = try decode(User.self, try global.connect().call(MethodName.usersGet, ["user": .string(user)]))
                Output.render(user, as: global.format)
            }
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a user (admin): nothing that costs credits is allowed any more.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "User id (u_…).")
        var user: String

        /// The user as disabled.
        struct Result: CommandResult {
            var user: User

            func encode(to encoder: any Encoder) throws { try user.encode(to: encoder) }

            var text: String { Output.lines("disabled \(user.id) (\(user.email))") }
        }

        func run() throws {
            try global.run {
                let user = try decode(
                    User.self, try global.connect().call(MethodName.usersDisable, ["user": .string(user)]))
                Output.render(Result(user: user), as: global.format)
            }
        }
    }
}

extension Users {
    struct Connect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect a user's own GitHub, Vercel, Netlify or Render account.",
            discussion: """
                The token is checked with the platform, stored encrypted under the data-key credential and \
                never shown again; the user's exports and deployments then use it instead of the operator's. \
                A token is never an argument (it would show in ps and shell history): it is read from \
                --token-file, or from standard input (one final line break is dropped). \
                A token the platform refuses exits 2 with io.vectort.InvalidParameter (parameter token); \
                a daemon without data-key answers io.vectort.Unavailable (reason data_key_missing).
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "User id (u_…).")
        var user: String

        @Argument(help: "github, vercel, netlify or render.")
        var platform: String

        @Option(name: .long, help: "Read the token from this file instead of standard input.")
        var tokenFile: String?

        struct Result: CommandResult {
            var account: ConnectedAccount

            func encode(to encoder: any Encoder) throws { try account.encode(to: encoder) }

            var text: String { Output.lines("connected \(account.platform) account \(account.account)") }
        }

        func run() throws {
            let token = try readToken()
            try global.run {
                let account = try decode(
                    ConnectedAccount.self,
                    try global.connect().call(
                        MethodName.usersConnectAccount,
                        ["user": .string(user), "platform": .string(platform), "token": .string(token)]))
                Output.render(Result(account: account), as: global.format)
            }
        }

        func readToken() throws -> String {
            let data: Data
            if let tokenFile {
                guard let read = FileManager.default.contents(atPath: tokenFile) else {
                    throw ValidationError("cannot read --token-file \(tokenFile)")
                }
                data = read
            } else {
                data = FileHandle.standardInput.readDataToEndOfFile()
            }
            guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("the token is not UTF-8 text") }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else {
                throw ValidationError(tokenFile == nil ? "standard input is empty: pipe the token in, or pass --token-file" : "\(tokenFile!) is empty")
            }
            return token
        }
    }

    struct Accounts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's connected accounts (never their tokens).")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "User id (u_…).")
        var user: String

        func run() throws {
            try global.run {
                let list = try decode(
                    ConnectedAccountList.self, try global.connect().call(MethodName.usersListAccounts, ["user": .string(user)]))
                Output.render(list, as: global.format)
            }
        }
    }

    struct Disconnect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget a user's account on a platform; the operator's token is used again.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "User id (u_…).")
        var user: String

        @Argument(help: "github, vercel, netlify or render.")
        var platform: String

        struct Result: CommandResult {
            var account: ConnectedAccount

            func encode(to encoder: any Encoder) throws { try account.encode(to: encoder) }

            var text: String { Output.lines("disconnected \(account.platform) account \(account.account)") }
        }

        func run() throws {
            try global.run {
                let account = try decode(
                    ConnectedAccount.self,
                    try global.connect().call(
                        MethodName.usersDisconnectAccount, ["user": .string(user), "platform": .string(platform)]))
                Output.render(Result(account: account), as: global.format)
            }
        }
    }
}

extension ConnectedAccountList: CommandResult {
    var text: String {
        guard !accounts.isEmpty else { return Output.lines("no connected accounts") }
        return Output.table(
            [["PLATFORM", "ACCOUNT", "CONNECTED", "CHECKED"]] + accounts.map { [$0.platform, $0.account, $0.connectedAt, $0.checkedAt] })
    }
}

extension User: CommandResult {
    var text: String {
        Output.lines(
            Output.fields([
                ("id", id), ("email", email), ("name", fullName), ("status", status.rawValue), ("created", createdAt),
            ]))
    }
}

extension UserPage: CommandResult {
    var text: String {
        let rows = users.map { [$0.id, $0.email, $0.fullName ?? "", $0.status.rawValue, $0.createdAt] }
        return Output.page(Output.table([["ID", "EMAIL", "NAME", "STATUS", "CREATED"]] + rows), nextAfter: nextAfter)
    }
}
