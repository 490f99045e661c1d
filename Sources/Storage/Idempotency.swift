package import Foundation
package import GRDB
import Protocol
import VectortCore

/// "The same idempotency key twice has exactly one effect and returns the first result":
/// the first result is stored in the same transaction as the effect.
package enum Idempotency {
    /// Runs `work` unless `key` was used in `scope` before; then returns the stored result.
    /// The same key with different parameters is a conflict, not a replay.
    package static func run<T: Codable & Sendable>(
        _ db: GRDB.Database, scope: String, key: String?, request: some Encodable, now: Date,
        _ work: () throws -> T
    ) throws -> T {
        guard let key else { return try work() }
        guard !key.isEmpty, key.utf8.count <= 255 else {
            throw EngineError.invalid("idempotency_key", "idempotency_key must be 1 to 255 bytes")
        }
        let fingerprint = String(decoding: try WireCoding.encoder.encode(request), as: UTF8.self)
        if let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT request, result FROM idempotency WHERE scope = ? AND key = ?"), arguments: [scope, key])
        {
            guard (row["request"] as String) == fingerprint else {
                throw EngineError.conflict("idempotency_key \(key) was already used with other parameters")
            }
            return try WireCoding.decoder.decode(T.self, from: Data((row["result"] as String).utf8))
        }
        let result = try work()
        try db.cachedStatement(sql: "INSERT INTO idempotency(scope, key, request, result, created_at) VALUES (?, ?, ?, ?, ?)").execute(arguments: [
                scope, key, fingerprint, String(decoding: try WireCoding.encoder.encode(result), as: UTF8.self),
                Timestamps.string(now),
            ])
        return result
    }
}
