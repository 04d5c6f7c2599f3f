import Glibc

/// How long a client may take at each stage of a connection, and how many connections may be open.
/// Every limit closes the connection when reached; none of them answers with a status (except where
/// `RequestGuardHandler` has a complete request head to answer).
public struct ConnectionLimits: Sendable, Equatable {
    /// Most connections open at once; further clients wait in the listen backlog.
    public var maxConnections: Int
    /// TLS handshake, from accept to the handshake's end.
    public var handshakeTimeout: Duration
    /// A complete request head: from accept (plain HTTP) or the handshake's end for the first request,
    /// from the request's first byte for later requests on a keep-alive connection.
    public var headerTimeout: Duration
    /// While a request body is expected and the server wants to read it: longest time without a byte
    /// (in all, the body timeout plus a second per `minimumBodyRate` bytes received). Also the longest
    /// a response may stall because the client does not read it.
    public var bodyTimeout: Duration
    /// A keep-alive connection with no request in progress.
    public var idleTimeout: Duration

    public static let defaults = ConnectionLimits(
        maxConnections: 1024,
        handshakeTimeout: .seconds(10),
        headerTimeout: .seconds(10),
        bodyTimeout: .seconds(30),
        idleTimeout: .seconds(60)
    )

    public init(
        maxConnections: Int,
        handshakeTimeout: Duration,
        headerTimeout: Duration,
        bodyTimeout: Duration,
        idleTimeout: Duration
    ) {
        self.maxConnections = maxConnections
        self.handshakeTimeout = handshakeTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
    }

    /// Bytes per second a request body must average, beyond its first body timeout: an upload
    /// trickled more slowly is closed (as Apache's `mod_reqtimeout` `MinRate`).
    static let minimumBodyRate = 1024

    /// Requests read and not yet answered on one connection (a client that pipelines): at this many
    /// the server stops reading from it until one is answered.
    static let maxPipelinedRequests = 16

    /// Descriptors kept back from connections: the database and its WAL, keys, log output, libcurl's
    /// sockets to AWS, the listening socket.
    static let reservedDescriptors = 64

    /// The connection cap that fits the process's descriptor limit. Raises the soft `RLIMIT_NOFILE` to
    /// the hard one first (as Go's runtime does); every connection may hold two descriptors (its socket
    /// and an archive file being streamed), so the cap is at most (limit - 64) / 2.
    /// Returns the cap and, when it is lower than asked for, the limit that lowered it.
    public static func clampToDescriptorLimit(_ requested: Int) -> (cap: Int, descriptorLimit: Int?) {
        var rl = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0 else { return (requested, nil) }
        if rl.rlim_cur < rl.rlim_max {
            var raised = rl
            raised.rlim_cur = rl.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { rl = raised }
        }
        let limit = rl.rlim_cur == rlim_t.max ? Int.max : Int(clamping: rl.rlim_cur)
        let fits = max(1, (limit - reservedDescriptors) / 2)
        return requested <= fits ? (requested, nil) : (fits, limit)
    }
}
