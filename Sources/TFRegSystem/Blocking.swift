import Dispatch

/// Runs blocking work (fsync, large file writes, C calls that may sleep) on a dispatch queue
/// instead of Swift's cooperative thread pool, and resumes the caller with the result.
public enum Blocking {
    private static let queue = DispatchQueue(label: "tfreg.blocking", attributes: .concurrent)

    public static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { cont in
            queue.async {
                do throws(E) { cont.resume(returning: .success(try body())) } catch { cont.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }
}
