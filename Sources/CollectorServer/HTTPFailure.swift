import NIOHTTP1
import PortwardenModel

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
        // A message may quote what a client sent (a CSR's name): hidden characters escaped, the lines ours.
        var reply = Reply.text(VisibleText.escaped(message, keepingLineBreaks: true) + "\n", status: status)
        reply.headers.add(contentsOf: headers)
        return reply
    }
}
