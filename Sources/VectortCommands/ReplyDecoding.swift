import Protocol

/// Decodes a reply; a reply of the wrong shape is reported as an invalid reply.
func decode<T: Decodable>(_ type: T.Type, _ value: JSONValue) throws(VectortClientError) -> T {
    do {
        return try value.decode(as: T.self)
    } catch {
        throw .invalidReply("unexpected reply shape for \(T.self)")
    }
}
