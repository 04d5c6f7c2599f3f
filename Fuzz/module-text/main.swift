import FuzzSupport
import TFRegCore
import TFRegJSON

/// What a publisher's README, description and source URL, a searcher's query and a stored docs blob
/// go through: `ModuleDocs.description(fromReadme:)` (bounded, no hidden characters),
/// `ModuleSearch.terms`/`words` (letters and digits only: never FTS5 syntax), `PublishDetails`
/// validation, and `ModuleDocs(jsonBytes:)` with its round trip.
fuzz { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    if let d = ModuleDocs.description(fromReadme: text) {
        guard d.utf8.count <= PublishDetails.maximumDescriptionLength, !d.isEmpty else { fatalError("description out of bounds") }
    }
    for term in ModuleSearch.terms(text) {
        guard !term.isEmpty, term.allSatisfy({ $0.isLetter || $0.isNumber }) else { fatalError("a term that is not a word: \(term)") }
    }
    guard ModuleSearch.terms(text).count <= ModuleSearch.maximumTerms else { fatalError("too many terms") }
    guard ModuleSearch.words(ofReadme: text).utf8.count <= ModuleSearch.maximumWordBytes else { fatalError("too many words") }
    if let checked = try? PublishDetails(description: text, source: text).validated(), let source = checked.source {
        guard PublishDetails.isHTTPURL(source) else { fatalError("an accepted source that is not an http(s) URL") }
    }
    if let docs = try? ModuleDocs(jsonBytes: bytes) {
        guard let again = try? ModuleDocs(jsonBytes: docs.jsonValue.serialized()), again == docs else { fatalError("docs round trip") }
    }
}
