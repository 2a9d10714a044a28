import NIOHTTP1

/// A request refused: the status and the sentence that says why, sent as the body.
struct HTTPFailure: Error {
    let status: HTTPResponseStatus
    let message: String
    var headers: HTTPHeaders = [:]

    init(_ status: HTTPResponseStatus, headers: HTTPHeaders = [:], message: String) {
        self.status = status
        self.headers = headers
        self.message = message
    }

    var reply: Reply {
        var reply = Reply.text(message + "\n", status: status)
        reply.headers.add(contentsOf: headers)
        return reply
    }
}
