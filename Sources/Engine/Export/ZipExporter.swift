import Foundation
public import Protocol
import ZIPFoundation
import VectortCore
import Storage

/// `Projects.ExportZip`: a version's files as a ZIP archive, byte-identical contents.
public struct ZipExporter: Sendable {
    public let versions: Versions

    public init(versions: Versions) {
        self.versions = versions
    }

    /// `built`: the version's built site instead of its sources.
    public func export(project: String, owner: String?, version: String? = nil, built: Bool = false) async throws
        -> ZipExport
    {
        let code =
            built
            ? try await versions.builtCode(project: project, owner: owner, version: version)
            : try await versions.code(project: project, owner: owner, version: version)
        let created = try await versions.repository.createdAt(version: code.version)
        let date = created.flatMap(Timestamps.parse) ?? Date(timeIntervalSince1970: 0)
        let data = try Self.archive(code.files, modified: date)
        return ZipExport(
            project: project, version: code.version,
            filename: "\(project)-\(code.version)\(built ? "-site" : "").zip", bytes: data.count,
            zipBase64: data.base64EncodedString())
    }

    static func archive(_ files: [ProjectFile], modified: Date) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for file in files {
            let bytes = file.data
            try archive.addEntry(
                with: file.path, type: .file, uncompressedSize: Int64(bytes.count), modificationDate: modified,
                permissions: 0o644, compressionMethod: .deflate
            ) { position, size in
                bytes.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        guard let data = archive.data else { throw EngineError(.internal(reference: "zip")) }
        return data
    }
}
