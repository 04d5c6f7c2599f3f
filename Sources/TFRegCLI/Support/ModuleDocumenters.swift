import TFRegCore

/// The documentation extractor every registry this binary builds uses (serve, lambda, reindex,
/// import-legacy): the one line the HCL extractor (`HCLModuleDocumenter`, issue 19) is wired into.
/// nil: versions are stored without documentation and `tfreg reindex` says it cannot run.
enum ModuleDocumenters {
    static var production: (any ModuleDocumenter)? { nil }
}
