import FuzzSupport
import TFRegArchive

// The strict gzip/tar reader and the canonical writer: never traps, never exceeds its limits, the
// canonical output re-canonicalizes to itself and lists what the reader reported.
fuzz { bytes in
    if let violated = ArchiveFuzzProperties.check(bytes) { fatalError("archive property violated: \(violated)") }
}
