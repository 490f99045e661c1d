/// An error that knows how it travels on the wire. Engine errors conform; the daemon maps
/// anything else to `io.vectort.Internal`.
public protocol WireConvertibleError: Error {
    var wireError: WireError { get }
}
