import Logging
import TFRegSystem

/// Download counts: `download` records each issued URL in `downloadCounter` (memory only); the
/// transports call this to add them to the module summaries (`DownloadCounter`).
extension RegistryService {
    /// Flushes the counted downloads to the store; with `ifDue`, only when the counter's interval has
    /// passed since its last flush (Lambda, after each answer). Never throws: a failed add is kept.
    public func flushDownloads(ifDue: Bool, logger: Logger) async {
        guard let counter = downloadCounter else { return }
        if ifDue {
            await counter.flushIfDue(to: store, now: clock.now(), logger: logger)
        } else {
            await counter.flush(to: store, now: clock.now(), logger: logger)
        }
    }
}
