import TFRegCore
import TFRegSystem

/// A request body: nothing, bytes already in memory (Lambda events), or a stream of chunks
/// (the HTTP server), consumed once by the upload route with back-pressure.
public struct APIRequestBody: Sendable {
    enum Storage: Sendable {
        case bytes([UInt8])
        case stream(AsyncThrowingStream<[UInt8], any Error>)
    }
    let storage: Storage

    public static let empty = APIRequestBody(storage: .bytes([]))
    public init(bytes: [UInt8]) { storage = .bytes(bytes) }
    public init(stream: AsyncThrowingStream<[UInt8], any Error>) { storage = .stream(stream) }
    init(storage: Storage) { self.storage = storage }

    /// How long a small (JSON) body may take to arrive in full. The connection's body timeout only
    /// bounds the gap between bytes; without a total, one byte every 29 s holds a connection for days
    /// on `POST /token`, which reads its body before anyone is authenticated.
    public static let smallBodyTimeout: Duration = .seconds(20)

    /// The whole body, at most `limit` bytes (`payloadTooLarge` beyond) and within `timeout`
    /// (`requestTimeout` after; the answer then closes the connection); for small JSON bodies.
    public func collect(limit: Int, within timeout: Duration = smallBodyTimeout) async throws(RegistryError) -> [UInt8] {
        try await collect(limit: limit, within: timeout, sleep: { try await Task.sleep(for: $0) })
    }

    /// `collect` with the timer's sleep injected (tests observe that it is cancelled). The reader and
    /// the timer race in one task group: the first to finish decides, the other is cancelled, and the
    /// group returns only once both have ended, so no timer outlives a body that arrived in time.
    func collect(
        limit: Int,
        within timeout: Duration,
        sleep: @escaping @Sendable (Duration) async throws -> Void
    ) async throws(RegistryError) -> [UInt8] {
        guard case .stream = storage else { return try await collectAll(limit: limit) }
        let body = self
        let late = RegistryError(.requestTimeout, "the request body did not arrive within \(timeout.components.seconds) s")
        let outcome = await withTaskGroup(of: Result<[UInt8], RegistryError>?.self) { group in
            group.addTask {
                do throws(RegistryError) {
                    let bytes = try await body.collectAll(limit: limit)
                    // A cancelled stream ends early: what was read is not the whole body.
                    return Task.isCancelled ? .failure(late) : .success(bytes)
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                do { try await sleep(timeout) } catch { return nil }  // cancelled: the body finished first
                return .failure(late)
            }
            var first: Result<[UInt8], RegistryError> = .failure(late)
            while let next = await group.next() {
                guard let next else { continue }
                first = next
                break
            }
            group.cancelAll()
            return first
        }
        return try outcome.get()
    }

    private func collectAll(limit: Int) async throws(RegistryError) -> [UInt8] {
        var out: [UInt8] = []
        do {
            try await forEachChunk { chunk in
                guard out.count + chunk.count <= limit else {
                    throw RegistryError(.payloadTooLarge, "the request body is larger than \(limit) bytes")
                }
                out += chunk
            }
        } catch let e as RegistryError {
            throw e
        } catch {
            throw .badRequest("the request body could not be read")
        }
        return out
    }

    /// Calls `consume` with each chunk in order.
    public func forEachChunk(_ consume: ([UInt8]) async throws -> Void) async throws {
        switch storage {
        case .bytes(let b):
            if !b.isEmpty { try await consume(b) }
        case .stream(let s):
            for try await chunk in s { try await consume(chunk) }
        }
    }
}

/// A transport-neutral HTTP request: what the Hummingbird server and the Lambda event adapters build.
public struct APIRequest: Sendable {
    public var method: String
    /// The raw path, still percent-encoded, without the query.
    public var path: String
    /// The raw query string without `?`.
    public var query: String
    /// Header fields in order; names compared case-insensitively.
    public var headers: [(name: String, value: String)]
    public var body: APIRequestBody
    /// `https` or `http`, as the client reached us.
    public var scheme: String
    /// An id for logs, from the transport (or made here).
    public var requestID: String
    /// The caller's IAM ARN as an IAM-authorizing front end (API Gateway, Function URL) verified it.
    /// Only the Lambda event adapters set this, from the event's request context; it is never read
    /// from anything a client sends.
    public var trustedCallerARN: String? = nil
    /// The host name the request arrived at as an IAM-authorizing front end reports it
    /// (`requestContext.domainName`), lowercased and validated. Only the Lambda event adapters set this;
    /// it is never read from a header. Used as the token audience when none is configured.
    public var trustedHost: String? = nil
    /// Whether download links may be built from the Host header when no public URL is configured:
    /// true for `serve` (the client that sent it is the one the link goes to); the Lambda adapters
    /// clear it, since there only the front end's domain (`trustedHost`) is vouched for.
    public var linksMayUseHostHeader = true
    /// The client's address as the transport saw it (the peer of the connection for `serve`, the
    /// front end's `sourceIp` for Lambda): for audit events only, never for a decision.
    public var sourceIP: String? {
        get { sourceAddress() }
        set { sourceAddress = { newValue } }
    }
    /// `sourceIP` as a lookup run only when it is read (an audit event): `serve` passes one that asks
    /// the connection, so a read request does not pay for formatting its peer's address.
    public var sourceAddress: @Sendable () -> String? = { nil }

    public init(
        method: String,
        path: String,
        query: String = "",
        headers: [(name: String, value: String)] = [],
        body: APIRequestBody = .empty,
        scheme: String = "https",
        requestID: String = ""
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.scheme = scheme
        self.requestID = requestID
    }

    /// The first header with this name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { HeaderName.equal($0.name, name) }?.value
    }

    /// All headers with this name.
    public func headers(named name: String) -> [String] {
        headers.filter { HeaderName.equal($0.name, name) }.map(\.value)
    }
}

/// A response body: bytes, or a local file the transport streams.
public enum APIResponseBody: Sendable {
    case empty
    case bytes([UInt8])
    case file(path: String, size: Int64)
}

public struct APIResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: APIResponseBody

    public init(status: Int, headers: [(name: String, value: String)] = [], body: APIResponseBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { HeaderName.equal($0.name, name) }?.value
    }

    /// The body as bytes (files are not read).
    public var bodyBytes: [UInt8] {
        if case .bytes(let b) = body { return b }
        return []
    }
}

/// Header names compare case-insensitively in ASCII (RFC 9110 §5.1), without allocating.
enum HeaderName {
    /// ASCII case-insensitive; over contiguous UTF-8 (it runs for every header of every lookup).
    static func equal(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        var a = a
        var b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                for i in 0..<x.count where x[i] != y[i] {
                    if ASCII.lowercased(x[i]) != ASCII.lowercased(y[i]) { return false }
                }
                return true
            }
        }
    }
}
