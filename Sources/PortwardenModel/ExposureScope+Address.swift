extension ExposureScope {
    /// Who can reach a socket bound to `address`: the one rule, used by the agent when it
    /// scans and by the collector when it checks what a report claims. An IPv4-mapped
    /// address is judged by the IPv4 address inside it.
    public init(boundTo address: IPAddress) {
        let effective = address.mappedIPv4 ?? address
        if effective.isUnspecified {
            self = .any
        } else if effective.isLoopback {
            self = .loopback
        } else {
            self = .specific
        }
    }
}
