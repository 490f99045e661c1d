import Protocol

extension Parameters {
    /// The user a user-scoped call acts for. A client-role caller must name the user, and sees
    /// only that user's objects; an admin may leave it out to act on any.
    func owner(_ context: CallContext) throws -> String? {
        let user = string("user")
        if context.role < .admin && user == nil {
            throw WireError.invalidParameter("user", "a client-role caller must name the user it acts for")
        }
        return user
    }

    func required(_ name: String) throws -> String {
        guard let value = string(name) else {
            throw WireError.invalidParameter(name, "parameter \"\(name)\" is required")
        }
        return value
    }

    func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let given = int(name) else { return value }
        guard let number = Int(exactly: given), range.contains(number) else {
            throw WireError.invalidParameter(name, "\(name) must be \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// A version given as its id or its number.
    func version() throws -> String? {
        try optionalVersion("version")
    }

    /// A required version parameter: an id (`v_…`) or a number.
    func versionNamed(_ name: String) throws -> String {
        guard let value = try optionalVersion(name) else { throw WireError.invalidParameter(name, "\(name) is required") }
        return value
    }

    /// An optional version parameter other than `version`.
    func versionNamedIfGiven(_ name: String) throws -> String? {
        try optionalVersion(name)
    }

    private func optionalVersion(_ name: String) throws -> String? {
        switch values[name] {
        case nil: return nil
        case .string(let id)?: return id
        case let value? where value.intValue != nil: return String(value.intValue!)
        default: throw WireError.invalidParameter(name, "\(name) must be a version id or number")
        }
    }
}
