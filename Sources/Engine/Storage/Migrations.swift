import Foundation
import GRDB

/// The schema, as an ordered list of named migrations. A migration is never edited once it
/// has shipped; changes are new migrations.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001-meta") { db in
            try db.create(table: "meta") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
            try db.execute(
                sql: "INSERT INTO meta(key, value) VALUES ('instance_id', ?), ('created_at', ?)",
                arguments: [UUID().uuidString.lowercased(), ISO8601DateFormatter().string(from: Date())])
        }
        return migrator
    }
}
