import TFRegCore
import TFRegDocs

/// The documentation extractor every registry this binary builds uses (serve, lambda, reindex,
/// import-legacy): the HCL extractor (TFRegDocs) with its default bounds.
enum ModuleDocumenters {
    static var production: (any ModuleDocumenter)? { HCLModuleDocumenter() }
}
