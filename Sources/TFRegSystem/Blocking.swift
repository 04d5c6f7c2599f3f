import Dispatch

/// The one bridge from async code to a blocking call: runs `body` on a dispatch queue instead of
/// Swift's cooperative thread pool and resumes the caller with its result. Used for fsync and large
/// file I/O (the shared concurrent queue), SQLite (each connection's serial queue), libcurl (the
/// client's queue) and `credential_process`.
public enum Blocking {
    /// The shared concurrent queue for blocking work that needs no ordering.
    public static let queue = DispatchQueue(label: "tfreg.blocking", attributes: .concurrent)

    public static func run<T: Sendable, E: Error>(
        on queue: DispatchQueue = Blocking.queue,
        _ body: @escaping @Sendable () throws(E) -> T
    ) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { cont in
            queue.async {
                do throws(E) { cont.resume(returning: .success(try body())) } catch { cont.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }
}
