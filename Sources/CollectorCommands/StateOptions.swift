import ArgumentParser
import CollectorServer

/// Where the collector keeps its CA, certificates and database.
struct StateOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The collector's state: CA, certificates, database.", valueName: "dir"))
    var stateDir: String = "/var/lib/portwarden"

    var files: CollectorFiles { CollectorFiles(directory: stateDir) }
}
