import CollectorClient

/// The agent's reader of the collector's answers. Any bytes: a response, "need more", or
/// an HTTPClientError — never a crash, whatever the lengths and chunk sizes say. Bytes
/// fed in two parts (split where the first byte says) read the same as fed at once, and
/// no body passes the response bound.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPResponse(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = read([bytes])
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) * bytes.count / 256
    let parts = read([Array(bytes[..<cut]), Array(bytes[cut...])])
    precondition(whole == parts, "fed at once: \(whole); in two parts at \(cut): \(parts)")
    if case .response(let response) = whole {
        precondition(response.body.count <= HTTPResponse.maxBytes)
        precondition((100...599).contains(response.status))
    }
    return 0
}

enum Outcome: Equatable {
    case response(HTTPResponse)
    case refused(HTTPClientError)
}

/// What a reader makes of `parts` arriving one after another, then the connection closing.
func read(_ parts: [[UInt8]]) -> Outcome {
    var reader = HTTPResponseReader()
    do {
        for part in parts {
            if let response = try reader.receive(part) { return .response(response) }
        }
        return .response(try reader.finish())
    } catch {
        return .refused(error)
    }
}
