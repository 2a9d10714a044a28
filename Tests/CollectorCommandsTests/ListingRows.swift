import Foundation
import Testing

/// The rows of a listing command's `--format json` (`{"schema": 1, name: [...]}`, plus
/// `alongside`'s keys where a listing says what its rows are about); fails the test when
/// the output is not that shape.
func listingRows(_ output: String, _ name: String, alongside: Set<String> = [],
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
    let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)",
                              sourceLocation: sourceLocation)
    #expect(object["schema"] as? Int == 1, "\(output)", sourceLocation: sourceLocation)
    #expect(Set(object.keys) == Set(["schema", name]).union(alongside), "\(object.keys)", sourceLocation: sourceLocation)
    return try #require(object[name] as? [[String: Any]], "\(output)", sourceLocation: sourceLocation)
}
