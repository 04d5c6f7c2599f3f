import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL
import ServiceLifecycle
import TFRegAPI
import TFRegCore
import TFRegSystem
import UnixSignals

/// Where and how `tfreg serve` listens.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// PEM certificate chain and private key; both nil → plain HTTP (for use behind a TLS proxy).
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// Timeouts and the connection cap (already clamped to the descriptor limit by the caller).
    public var limits: ConnectionLimits
    /// `--metrics-listen`: where `GET /metrics` is answered (plain HTTP, a listener of its own, never
    /// the registry's port); nil: no metrics are kept.
    public var metricsListen: (host: String, port: Int)? = nil

    public init(host: String, port: Int, tlsCertificatePath: String?, tlsKeyPath: String?, limits: ConnectionLimits = .defaults) {
        self.host = host
        self.port = port
        self.tlsCertificatePath = tlsCertificatePath
        self.tlsKeyPath = tlsKeyPath
        self.limits = limits
    }

    public var usesTLS: Bool { tlsCertificatePath != nil }

    /// Loads the certificate chain and key and checks that they belong together, without listening.
    /// Errors name the file and what is wrong with it (swapped files, an encrypted key, a mismatch).
    public func validateTLS() throws -> String? {
        guard let cert = tlsCertificatePath, let key = tlsKeyPath else { return nil }
        let isKey = { (path: String) in (try? NIOSSLPrivateKey(file: path, format: .pem)) != nil }
        let swapped = "--tls-cert and --tls-key swapped?"
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(cert) } catch {
            if isKey(cert) { throw ConfigurationError("the certificate file \(cert) holds a private key, not a certificate: \(swapped)") }
            throw ConfigurationError("the certificate file \(cert) is not a PEM certificate chain (\(error))")
        }
        guard let leaf = chain.first else {
            if isKey(cert) { throw ConfigurationError("the certificate file \(cert) holds a private key, not a certificate: \(swapped)") }
            throw ConfigurationError("the certificate file \(cert) holds no PEM certificate")
        }
        let privateKey: NIOSSLPrivateKey
        do { privateKey = try NIOSSLPrivateKey(file: key, format: .pem) } catch {
            if let c = try? NIOSSLCertificate.fromPEMFile(key), !c.isEmpty {
                throw ConfigurationError("the key file \(key) holds a certificate, not a private key: \(swapped)")
            }
            throw ConfigurationError("the key file \(key) is not an unencrypted PEM private key (\(error))")
        }
        // Building a context fails when the key does not match the certificate.
        do {
            _ = try NIOSSLContext(
                configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
            )
        } catch {
            throw ConfigurationError("the private key in \(key) does not belong to the certificate in \(cert): they are not a pair (\(error))")
        }
        let expiry = leaf.notValidAfter
        return "certificate valid until \(rfc3339(Int64(expiry)))"
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// The Hummingbird adapter: turns Hummingbird requests into `APIRequest`s, hands them to
/// `RegistryAPI`, and writes the `APIResponse` back, streaming archive files. It knows nothing of
/// storage or authentication.
public struct RegistryServer: Sendable {
    public let api: RegistryAPI
    public let configuration: ServerConfiguration
    public let logger: Logger

    /// The access log line is the API's observation of each request (`AccessLog`, added here), not
    /// written by the server.
    /// The metrics `GET /metrics` answers with (`configuration.metricsListen` set), else nil.
    public let metrics: MetricsRegistry?

    /// `metrics`: the registry the backends already report to (`serve` makes it before opening them);
    /// without one, a listener (`configuration.metricsListen`) gets a new, request-only registry.
    public init(api: RegistryAPI, configuration: ServerConfiguration, logger: Logger, metrics: MetricsRegistry? = nil) {
        let metrics = configuration.metricsListen == nil ? nil : (metrics ?? MetricsRegistry())
        var api = api.adding(AccessLog())
        if let metrics { api = api.adding(MetricsObserver(registry: metrics)) }
        self.api = api
        self.metrics = metrics
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until SIGTERM or SIGINT, then stops accepting, lets in-flight requests finish, and returns.
    /// `onListening` receives the bound port (useful with port 0).
    public func run(
        onListening: @escaping @Sendable (Int) async -> Void = { _ in },
        onMetricsListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let api = self.api
        let scheme = configuration.usesTLS ? "https" : "http"
        let accessLogger = logger
        let responder = CallbackResponder<ServerRequestContext> { request, context in
            let apiRequest = Self.makeRequest(request, scheme: scheme, requestID: context.id, channel: context.channel)
            let response = await api.respond(to: apiRequest, logger: accessLogger)
            return Self.makeResponse(response, headOnly: request.method == .head)
        }
        let limits = configuration.limits
        let connectionLogger = logger
        let table = ConnectionTable(handshakeGrace: .nanoseconds(TimeAmount(limits.handshakeTimeout).nanoseconds / 2))
        let http1 = HTTPServerBuilder { responder in
            GuardedHTTP1Channel(responder: responder, limits: limits, tls: configuration.usesTLS, table: table, logger: connectionLogger)
        }
        let server: HTTPServerBuilder
        if let cert = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath {
            let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
            tls.minimumTLSVersion = .tlsv12
            // On shutdown, idle keep-alive clients get close_notify; do not wait 5 s (the default) for theirs.
            tls.shutdownTimeout = .seconds(1)
            server = try .tls(http1, tlsConfiguration: tls)
        } else {
            server = http1
        }
        let app = Application(
            responder: responder,
            server: server,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: nil,
                availableConnectionsDelegate: EvictingConnectionLimit(limits.maxConnections, table: table, logger: logger)
            ),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        var services: [any Service] = [app]
        if let metrics, let listen = configuration.metricsListen {
            metrics.addGauge("tfreg_open_connections", help: "Connections open on the registry's listener.") { Double(table.openConnections) }
            services.append(Self.metricsApplication(metrics, host: listen.host, port: listen.port, logger: logger, onListening: onMetricsListening))
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }

    /// The metrics listener: plain HTTP/1.1, `GET /metrics` (Prometheus text format 0.0.4), 404 for
    /// anything else. Never the registry's responder, so nothing of the registry is reachable here and
    /// `/metrics` is not reachable on the registry's port.
    static func metricsApplication(
        _ metrics: MetricsRegistry,
        host: String,
        port: Int,
        logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void
    ) -> some Service {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            guard request.uri.path == "/metrics" else {
                return Response(status: .notFound, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "not found\n")))
            }
            guard request.method == .get || request.method == .head else {
                return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD"])
            }
            let text = metrics.prometheusText()
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: request.method == .head ? "" : text))
            )
        }
        return Application(
            responder: responder,
            server: .http1(),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// `channel` (nil in unit tests) is where `100 Continue` goes when the request asks for it.
    static func makeRequest(_ request: Request, scheme: String, requestID: String, channel: (any Channel)? = nil) -> APIRequest {
        let target = request.head.path ?? "/"
        let path: String
        let query: String
        // On UTF-8 code units: a Character search runs grapheme breaking over the whole target (it was
        // 5 % of the instructions of an authorized HTTPS request).
        let utf8 = target.utf8
        if let q = utf8.firstIndex(of: UInt8(ascii: "?")) {
            path = String(target[..<q])
            query = String(target[utf8.index(after: q)...])
        } else {
            path = target
            query = ""
        }
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(request.headers.count + 1)
        for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
        if let authority = request.head.authority, !headers.contains(where: { $0.name == "host" }) {
            headers.append(("host", authority))
        }
        let body: APIRequestBody
        if request.method == .post || request.method == .put {
            // RFC 9110 §10.1.1: the client waits for 100 before sending the body. The API reads the body
            // only after authentication, authorization and the size check, so the first read is the
            // moment to send it; a request refused before that gets its final status instead (and
            // RequestGuardHandler closes the connection after it).
            let continueChannel = request.headers[.expect]?.lowercased() == "100-continue" ? channel : nil
            let box = IteratorBox(request.body.makeAsyncIterator())
            body = APIRequestBody(
                stream: AsyncThrowingStream<[UInt8], any Error> {
                    if let channel = continueChannel, box.markContinueSent() {
                        try await channel.writeAndFlush(HTTPResponsePart.head(HTTPResponse(status: .continue))).get()
                    }
                    guard var buffer = try await box.next() else { return nil }
                    return buffer.readBytes(length: buffer.readableBytes) ?? []
                }
            )
        } else {
            body = .empty
        }
        var apiRequest = APIRequest(
            method: request.method.rawValue,
            path: path,
            query: query,
            headers: headers,
            body: body,
            scheme: scheme,
            requestID: requestID
        )
        if let channel {
            if request.method == .get || request.method == .head {
                // A read records no audit event: the address is looked up only if one ever asks.
                apiRequest.sourceAddress = { channel.remoteAddress?.ipAddress }
            } else {
                // A write's audit event is recorded after the change (a refusal's after the answer): by
                // then a client that reset the connection has taken the channel's address with it, so
                // it is read now.
                apiRequest.sourceIP = channel.remoteAddress?.ipAddress
            }
        }
        return apiRequest
    }

    static func makeResponse(_ response: APIResponse, headOnly: Bool) -> Response {
        // Built as an array first: appending to `HTTPFields` one at a time went through the generic
        // `insert(_:at:)` and regrew its storage (1 % of a download request's instructions).
        var list: [HTTPField] = []
        list.reserveCapacity(response.headers.count + 1)
        for (name, value) in response.headers {
            if let n = HTTPField.Name(name) { list.append(HTTPField(name: n, value: value)) }
        }
        var fields = HTTPFields(list)
        let status = HTTPResponse.Status(code: response.status)
        switch response.body {
        case .empty:
            return Response(status: status, headers: fields, body: ResponseBody())
        case .bytes(let bytes):
            if headOnly {
                fields[.contentLength] = String(bytes.count)
                return Response(status: status, headers: fields, body: ResponseBody())
            }
            return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        case .file(let path, let size):
            fields[.contentLength] = nil
            return Response(status: status, headers: fields, body: Self.fileBody(path: path, size: size))
        }
    }

    /// Streams a file in 64 KiB chunks; reads run on the blocking queue, off the cooperative pool.
    static func fileBody(path: String, size: Int64) -> ResponseBody {
        ResponseBody(contentLength: Int(size)) { writer in
            // O_NOFOLLOW: the storage checked a regular file; a link swapped in since is not followed.
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { throw RegistryError.unavailable("archive storage", detail: "open \(path)") }
            defer { close(fd) }
            var remaining = size
            while remaining > 0 {
                let chunk: [UInt8] = try await Blocking.run { () throws(RegistryError) -> [UInt8] in
                    var buf = [UInt8](repeating: 0, count: 65536)
                    let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                    guard n > 0 else { throw RegistryError.unavailable("archive storage", detail: "read \(path)") }
                    buf.removeSubrange(n...)
                    return buf
                }
                remaining -= Int64(chunk.count)
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
    }
}

/// Lets a single consumer pull from Hummingbird's body iterator inside an `AsyncThrowingStream`,
/// keeping back-pressure (nothing is read ahead). Only the stream's one consumer touches it.
private final class IteratorBox: @unchecked Sendable {
    var iterator: RequestBody.AsyncIterator
    private var continueSent = false
    init(_ iterator: RequestBody.AsyncIterator) { self.iterator = iterator }
    func next() async throws -> ByteBuffer? { try await iterator.next() }
    /// True the first time only.
    func markContinueSent() -> Bool {
        defer { continueSent = true }
        return !continueSent
    }
}

/// Hummingbird's basic context plus the connection's channel, for `100 Continue`.
struct ServerRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
