import NIOCore

/// `GET /v1/ca`: the fleet CA bundle (PEM), to an enrolled host over mutual TLS — what
/// it should trust now. Each report's answer states the bundle's digest
/// (`ReportRoutes.caHeader`); an agent whose ca.pem differs fetches it here, so when a
/// rotation's overlap ends (`ca retire-old`, restart) hosts drop the old CA at their next
/// report rather than at their next renewal. The agent decides whether to take it.
struct CARoutes {
    /// The bundle, as renewals hand it out.
    let bundle: String

    func add(to routes: inout Routes) {
        routes.add(.GET, "/v1/ca", .inline) { request in
            guard request.peer?.host != nil else {
                throw HTTPFailure(.unauthorized, message: "the CA bundle is for enrolled hosts (mutual TLS); "
                                  + "a new host is handed it when it enrolls (portwarden-agent enroll)")
            }
            return Reply(status: .ok, headers: ["Content-Type": "application/x-pem-file"], body: ByteBuffer(string: bundle))
        }
    }
}
