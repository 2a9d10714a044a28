import ArgumentParser
import CollectorStore
import Foundation
import Policy

extension Hosts {
    /// `portwarden hosts tag HOST TAG`
    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a host a tag that rules trust (e.g. OpenVMS).",
            discussion: """
                Tags say what the collector knows a host to be: Policies/inventory.yaml gives \
                them by host-name pattern, and this gives one host one tag, whatever the \
                inventory says (it replaces an earlier `hosts untag`). A name no host has \
                reported or enrolled under is refused (a typo would tag nothing); tag one \
                before it enrolls with --create — and while a tag is given to a name, a host \
                enrolling itself under it waits for `portwarden enroll approve`. A running collector applies it \
                from the host's next report. Tags compare case-insensitively; HOST is read in \
                normal form (WEB-01. is web-01).
                """)

        @OptionGroup var state: StateOptions

        @Argument(help: "The host's name, as in its certificate.")
        var host: String

        @Argument(help: "The tag: letters, digits, '.', '_', '-'.")
        var tag: String

        @Flag(help: "Tag a name no host has reported or enrolled under yet (tagging before it enrolls).")
        var create = false

        func validate() throws { try validateTag(tag) }

        func run() throws {
            let database = try openHistory(state)
            let host = try hostArgument(self.host, database)
            let known = try database.knowsName(host)
            guard create || known else {
                throw ValidationError("""
                    no host named \(host) has reported or enrolled, so the tag would apply to nothing: \
                    `portwarden hosts list` shows the fleet; to tag \(host) before it enrolls, add --create
                    """)
            }
            try database.tag(host: host, tag, at: nowSeconds, by: Operator.current)
            print("\(host): tagged \(tag)")
        }
    }

    /// `portwarden hosts untag HOST TAG`
    struct Untag: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a tag away from a host, even one the inventory gives it.",
            discussion: """
                Records an explicit removal: the host does not carry TAG even when a glob in \
                Policies/inventory.yaml gives it (e.g. a vms-* host that is not OpenVMS), and \
                it replaces an earlier `hosts tag`. With --follow-inventory nothing is said \
                about TAG any more: the inventory alone decides again.
                """)

        @OptionGroup var state: StateOptions

        @Argument(help: "The host's name, as in its certificate.")
        var host: String

        @Argument(help: "The tag: letters, digits, '.', '_', '-'.")
        var tag: String

        @Flag(help: "Forget any `hosts tag` or `hosts untag` of TAG on HOST instead: the inventory decides.")
        var followInventory = false

        func validate() throws { try validateTag(tag) }

        func run() throws {
            let database = try openHistory(state)
            let host = try hostArgument(self.host, database)
            if followInventory {
                let forgot = try database.forgetTag(host: host, tag, at: nowSeconds, by: Operator.current)
                print(forgot ? "\(host): \(tag) follows the inventory again" : "\(host): nothing was said about \(tag); the inventory decides")
            } else {
                try database.untag(host: host, tag, at: nowSeconds, by: Operator.current)
                print("\(host): untagged \(tag) (overrides the inventory)")
            }
        }
    }
}

/// Tags are plain words, so they read the same in YAML, in rules and here.
private func validateTag(_ tag: String) throws {
    guard isTagName(tag) else { throw ValidationError("\"\(tag)\" is not a tag: use letters, digits, '.', '_' and '-'") }
}
