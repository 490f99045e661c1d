package import Foundation
import Logging
import PostgresNIO
import VectortCore

/// This node in the fleet sharing one database: its id, its heartbeat in `nodes`, and the
/// work it owns. Holds and generations record the node that took them; a starting node
/// recovers what its previous process left, and any node recovers the work of a node whose
/// heartbeat expired, exactly once: the dead node's row is deleted in the transaction that
/// recovers its work, so a second node looking at the same moment finds nothing to do.
package struct PostgresNode: Sendable {
    package var id: String
    /// How often the heartbeat is written.
    package var heartbeat: Duration
    /// A node whose heartbeat is older than this is dead. Each node records its own in its
    /// row, and is judged by it (a node's setting promises how often it beats), so nodes with
    /// different settings never take a live one for dead.
    package var expiry: Duration
    /// The nodes whose heartbeat was live at this node's last heartbeat, this one included.
    private let live = Locked<[String]>([])

    package var liveNodes: [String] { live.value.isEmpty ? [id] : live.value }

    package init(id: String, heartbeat: Duration = .seconds(5), expiry: Duration = .seconds(30)) {
        self.id = id
        self.heartbeat = heartbeat
        self.expiry = expiry
    }

    /// Registers (or re-registers) the node.
    func register(_ database: PostgresDatabase, now: Date) async throws {
        _ = try await database.client.query(
            """
            INSERT INTO nodes(id, started_at, heartbeat_at, timeout_seconds) VALUES (\(id), \(Timestamps.string(now)), now(),
                \(expiry.seconds))
            ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, heartbeat_at = now(),
                timeout_seconds = excluded.timeout_seconds
            """, logger: database.logger
        ).collect()
        try await refreshLive(database)
    }

    /// Reads the nodes whose heartbeat is live.
    func refreshLive(_ database: PostgresDatabase) async throws {
        var nodes: [String] = []
        for try await node in try await database.client.query(
            """
            SELECT id FROM nodes WHERE heartbeat_at >= now() - make_interval(secs => COALESCE(timeout_seconds, \(expiry.seconds)))
            ORDER BY id
            """,
            logger: database.logger
        ).decode(String.self) {
            nodes.append(node)
        }
        live.value = nodes
    }

    /// Writes the heartbeat until cancelled; a node another declared dead registers again.
    func beat(_ database: PostgresDatabase) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: heartbeat)
            guard !Task.isCancelled else { return }
            do {
                _ = try await database.client.query(
                    """
                    INSERT INTO nodes(id, started_at, heartbeat_at, timeout_seconds)
                    VALUES (\(id), \(Timestamps.string(Date())), now(), \(expiry.seconds))
                    ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()
                    """, logger: database.logger
                ).collect()
                try await refreshLive(database)
            } catch {
                database.logger.warning("cannot write this node's heartbeat", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Stores this node's providers (JSON) beside its heartbeat; a node another declared dead
    /// publishes again after its next heartbeat registers it.
    func publishProviders(_ document: String, _ database: PostgresDatabase) async throws {
        _ = try await database.client.query(
            "UPDATE nodes SET providers = \(document), providers_at = now() WHERE id = \(id)", logger: database.logger
        ).collect()
    }

    /// Every registered node's last published providers, live ones first.
    func publishedProviders(_ database: PostgresDatabase) async throws -> [PublishedProviders] {
        var nodes: [PublishedProviders] = []
        for try await (node, live, at, document) in try await database.client.query(
            """
            SELECT id, heartbeat_at >= now() - make_interval(secs => COALESCE(timeout_seconds, \(expiry.seconds))), providers_at,
                providers
            FROM nodes ORDER BY 2 DESC, id
            """, logger: database.logger
        ).decode((String, Bool, Date?, String?).self) {
            nodes.append(PublishedProviders(node: node, live: live, publishedAt: at, document: document))
        }
        return nodes
    }

    /// Inside a write: the nodes whose heartbeat expired, removed (claimed) by this transaction.
    func claimDead(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var dead: [String] = []
        for try await node in try await connection.query(
            """
            DELETE FROM nodes
            WHERE id <> \(id) AND heartbeat_at < now() - make_interval(secs => COALESCE(timeout_seconds, \(expiry.seconds)))
            RETURNING id
            """, logger: logger
        ).decode(String.self) {
            dead.append(node)
        }
        return dead
    }

    /// This node and the dead ones: whose open holds and running generations this node recovers.
    func recoverable(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        [id] + (try await claimDead(connection, logger: logger))
    }
}
