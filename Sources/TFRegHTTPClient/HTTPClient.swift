import CCurl
import Dispatch
import Glibc
import Synchronization
import TFRegSystem

/// An outgoing HTTP request.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// When set, the body is this file, streamed from disk as libcurl asks for it (`body` is ignored),
    /// so an upload never has to fit in memory.
    public var bodyFile: String?
    /// Called with each chunk's size as libcurl takes the body (on libcurl's thread): upload progress.
    public var onBodySent: (@Sendable (Int) -> Void)?
    /// Whole-request timeout, seconds.
    public var timeout: Double
    /// When set, the response body goes to this file (created or truncated, mode 0600) as it arrives
    /// and `HTTPResponse.body` stays empty: a large download never has to fit in memory.
    public var responseFile: String? = nil
    /// The most response body bytes accepted (memory or file); more aborts the request with an error of
    /// kind `.tooLarge`. Nil: unbounded.
    public var maxResponseBytes: Int64? = nil
    /// Called with each chunk's size as the response body arrives (on libcurl's thread): download progress.
    public var onBodyReceived: (@Sendable (Int) -> Void)? = nil

    public init(
        method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        bodyFile: String? = nil,
        onBodySent: (@Sendable (Int) -> Void)? = nil,
        timeout: Double = 30
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.bodyFile = bodyFile
        self.onBodySent = onBodySent
        self.timeout = timeout
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header fields of the final response, names lowercased.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers.map { ($0.name.lowercased(), $0.value) }
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.name == n }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case connect, timeout, tls, tooLarge, other }
    public let kind: Kind
    public let message: String
    public var description: String { message }

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }
}

/// Counts the HTTP calls a scope makes and the time spent in them: the Lambda loop binds one per
/// invocation (`HTTPCallMeter.$current`) to log how much of it was spent waiting on AWS.
public final class HTTPCallMeter: Sendable {
    @TaskLocal public static var current: HTTPCallMeter?
    private let state = Mutex<(calls: Int, time: Duration)>((0, .zero))

    public init() {}

    public var calls: Int { state.withLock { $0.calls } }
    public var time: Duration { state.withLock { $0.time } }

    func record(_ elapsed: Duration) {
        state.withLock {
            $0.calls += 1
            $0.time += elapsed
        }
    }
}

/// What tfreg needs from an HTTP client; the libcurl implementation is `CurlHTTPClient`.
public protocol HTTPClient: Sendable {
    func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse
}

/// HTTP over libcurl. Easy handles are pooled and reused (curl keeps their connections alive), and
/// every blocking `curl_easy_perform` runs on a dispatch queue, never on Swift's cooperative pool.
/// HTTPS uses the system CA store, or `SSL_CERT_FILE` / `AWS_CA_BUNDLE` when set; proxies come from
/// the environment as libcurl reads it (`HTTPS_PROXY`, `NO_PROXY`). Redirects are not followed.
/// The system store is found by probing the usual bundle files, not by trusting the path libcurl was
/// built with: the Lambda zip carries Debian's libcurl (which looks for Debian's
/// /etc/ssl/certs/ca-certificates.crt) onto Amazon Linux, whose bundle is /etc/pki/tls/certs/ca-bundle.crt.
public final class CurlHTTPClient: HTTPClient {
    private let pool = Mutex<[EasyHandle]>([])
    private let queue = DispatchQueue(label: "tfreg.curl", attributes: .concurrent)
    private let caBundle: String?

    public init(caBundle: String? = nil) {
        _ = CurlHTTPClient.globalInit
        self.caBundle = caBundle ?? CurlHTTPClient.systemCABundle
    }

    /// Debian/Ubuntu, Amazon Linux/RHEL/Fedora, SUSE, Alpine; nil leaves libcurl's built-in default.
    static let systemCABundle: String? = [
        "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem",
    ].first { access($0, R_OK) == 0 }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let meter = HTTPCallMeter.current
        let started = meter == nil ? nil : ContinuousClock.now
        defer { if let meter, let started { meter.record(ContinuousClock.now - started) } }
        let handle = pool.withLock { $0.popLast() } ?? EasyHandle()
        let ca = caBundle
        let result = await Blocking.run(on: queue) { handle.perform(request, caBundle: ca) }
        pool.withLock { if $0.count < 8 { $0.append(handle) } }
        return try result.get()
    }
}

/// One curl easy handle; used by one request at a time (the pool hands it out exclusively).
final class EasyHandle: @unchecked Sendable {
    let curl: UnsafeMutableRawPointer

    init() {
        guard let h = curl_easy_init() else { fatalError("curl_easy_init failed") }
        curl = h
    }

    deinit { curl_easy_cleanup(curl) }

    final class Sink {
        var body: [UInt8] = []
        /// The last response's headers (a status line starts them over: 100 Continue, proxies).
        var headers: [(String, String)] = []
        var upload: [UInt8] = []
        var uploadOffset = 0
        /// A file body: read from this descriptor instead of `upload`.
        var uploadFD: Int32 = -1
        var readFailed = false
        var onBodySent: (@Sendable (Int) -> Void)?
        /// `responseFile`'s descriptor, or -1 (the body goes to `body`).
        var outFD: Int32 = -1
        var writeFailed = false
        var received: Int64 = 0
        var limit: Int64 = .max
        var exceeded = false
        var onBodyReceived: (@Sendable (Int) -> Void)?
    }

    func perform(_ request: HTTPRequest, caBundle: String?) -> Result<HTTPResponse, HTTPClientError> {
        curl_easy_reset(curl)
        let sink = Sink()
        var bodySize = Int64(request.body.count)
        if let path = request.bodyFile {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            var st = stat()
            guard fd >= 0, fstat(fd, &st) == 0 else {
                if fd >= 0 { close(fd) }
                return .failure(
                    HTTPClientError(
                        kind: .other,
                        message: "\(request.method) \(Self.redacted(request.url)): cannot open the body file (errno \(errno))"
                    )
                )
            }
            sink.uploadFD = fd
            bodySize = Int64(st.st_size)
        } else {
            sink.upload = request.body
        }
        sink.onBodySent = request.onBodySent
        defer { if sink.uploadFD >= 0 { close(sink.uploadFD) } }
        sink.limit = request.maxResponseBytes ?? .max
        sink.onBodyReceived = request.onBodyReceived
        if let path = request.responseFile {
            sink.outFD = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard sink.outFD >= 0 else {
                return .failure(
                    HTTPClientError(
                        kind: .other,
                        message: "\(request.method) \(Self.redacted(request.url)): cannot create the response file (errno \(errno))"
                    )
                )
            }
        }
        defer { if sink.outFD >= 0 { close(sink.outFD) } }
        let opaque = Unmanaged.passRetained(sink)
        defer { opaque.release() }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(list) }
        for (n, v) in request.headers { list = curl_slist_append(list, "\(n): \(v)") }
        if !request.headers.contains(where: { $0.name.lowercased() == "expect" }) { list = curl_slist_append(list, "Expect:") }

        let method = request.method.uppercased()
        do throws(HTTPClientError) {
            func set(_ rc: CURLcode, _ option: String) throws(HTTPClientError) { try EasyHandle.check(rc, option, request) }
            try set(tfreg_curl_setopt_string(curl, CURLOPT_URL, request.url), "CURLOPT_URL")
            try set(tfreg_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1), "CURLOPT_NOSIGNAL")
            try set(tfreg_curl_setopt_long(curl, CURLOPT_FOLLOWLOCATION, 0), "CURLOPT_FOLLOWLOCATION")
            try set(tfreg_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000)), "CURLOPT_TIMEOUT_MS")
            try set(tfreg_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, Int(min(request.timeout, 10) * 1000)), "CURLOPT_CONNECTTIMEOUT_MS")
            try set(tfreg_curl_setopt_string(curl, CURLOPT_PROTOCOLS_STR, "http,https"), "CURLOPT_PROTOCOLS_STR")
            if let caBundle { try set(tfreg_curl_setopt_string(curl, CURLOPT_CAINFO, caBundle), "CURLOPT_CAINFO") }
            try set(tfreg_curl_setopt_slist(curl, CURLOPT_HTTPHEADER, list), "CURLOPT_HTTPHEADER")
            switch method {
            case "GET": try set(tfreg_curl_setopt_long(curl, CURLOPT_HTTPGET, 1), "CURLOPT_HTTPGET")
            case "HEAD": try set(tfreg_curl_setopt_long(curl, CURLOPT_NOBODY, 1), "CURLOPT_NOBODY")
            default:
                try set(tfreg_curl_setopt_string(curl, CURLOPT_CUSTOMREQUEST, method), "CURLOPT_CUSTOMREQUEST")
                if bodySize > 0 || request.bodyFile != nil || method == "POST" || method == "PUT" {
                    try set(tfreg_curl_setopt_long(curl, CURLOPT_UPLOAD, 1), "CURLOPT_UPLOAD")
                    try set(tfreg_curl_setopt_off(curl, CURLOPT_INFILESIZE_LARGE, curl_off_t(bodySize)), "CURLOPT_INFILESIZE_LARGE")
                    try set(tfreg_curl_setopt_read_fn(curl, CURLOPT_READFUNCTION, readCallback), "CURLOPT_READFUNCTION")
                    try set(tfreg_curl_setopt_pointer(curl, CURLOPT_READDATA, opaque.toOpaque()), "CURLOPT_READDATA")
                }
            }
            try set(tfreg_curl_setopt_write_fn(curl, CURLOPT_WRITEFUNCTION, writeCallback), "CURLOPT_WRITEFUNCTION")
            try set(tfreg_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, opaque.toOpaque()), "CURLOPT_WRITEDATA")
            try set(tfreg_curl_setopt_write_fn(curl, CURLOPT_HEADERFUNCTION, headerCallback), "CURLOPT_HEADERFUNCTION")
            try set(tfreg_curl_setopt_pointer(curl, CURLOPT_HEADERDATA, opaque.toOpaque()), "CURLOPT_HEADERDATA")
        } catch {
            return .failure(error)
        }

        let rc = curl_easy_perform(curl)
        if sink.exceeded {
            return .failure(
                HTTPClientError(
                    kind: .tooLarge,
                    message: "\(request.method) \(Self.redacted(request.url)): the answer is larger than \(sink.limit) bytes"
                )
            )
        }
        if sink.writeFailed {
            return .failure(HTTPClientError(kind: .other, message: "\(request.method) \(Self.redacted(request.url)): cannot write the response file"))
        }
        if sink.readFailed {
            return .failure(HTTPClientError(kind: .other, message: "\(request.method) \(Self.redacted(request.url)): cannot read the body file"))
        }
        guard rc == CURLE_OK else {
            let message = String(cString: curl_easy_strerror(rc))
            let kind: HTTPClientError.Kind =
                switch rc {
                case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .connect
                case CURLE_OPERATION_TIMEDOUT: .timeout
                case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE: .tls
                default: .other
                }
            return .failure(HTTPClientError(kind: kind, message: "\(request.method) \(Self.redacted(request.url)): \(message)"))
        }
        var status = 0
        do throws(HTTPClientError) {
            try Self.check(tfreg_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status), "CURLINFO_RESPONSE_CODE", request)
        } catch {
            return .failure(error)
        }
        return .success(HTTPResponse(status: status, headers: sink.headers, body: sink.body))
    }

    /// Every libcurl option must take: one that does not (an over-long string, an option this libcurl
    /// lacks) would silently drop a timeout, the protocol restriction or a callback. The error carries
    /// curl's own message.
    static func check(_ rc: CURLcode, _ option: String, _ request: HTTPRequest) throws(HTTPClientError) {
        guard rc == CURLE_OK else {
            throw HTTPClientError(
                kind: .other,
                message:
                    "\(request.method) \(redacted(request.url).prefix(96)): libcurl refused \(option): \(String(cString: curl_easy_strerror(rc)))"
            )
        }
    }

    /// URLs may carry signatures in their query; logs and errors show only scheme, host and path.
    static func redacted(_ url: String) -> String {
        if let q = url.firstIndex(of: "?") { return String(url[..<q]) + "?…" }
        return url
    }
}

private func writeCallback(_ ptr: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    guard let ptr, let user else { return 0 }
    let sink = Unmanaged<EasyHandle.Sink>.fromOpaque(user).takeUnretainedValue()
    let n = size * count
    sink.received += Int64(n)
    guard sink.received <= sink.limit else {
        sink.exceeded = true
        return 0
    }
    if sink.outFD >= 0 {
        var done = 0
        while done < n {
            let w = write(sink.outFD, ptr + done, n - done)
            if w < 0, errno == EINTR { continue }
            guard w > 0 else {
                sink.writeFailed = true
                return 0
            }
            done += w
        }
    } else {
        ptr.withMemoryRebound(to: UInt8.self, capacity: n) { sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
    }
    sink.onBodyReceived?(n)
    return n
}

/// One header line per call, as bytes: split at the first colon, the name lower-cased (ASCII), the
/// value without surrounding spaces, tabs, CR and LF. Byte work only: this runs for every header of
/// every AWS and Runtime API answer.
private func headerCallback(_ ptr: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    guard let ptr, let user else { return 0 }
    let sink = Unmanaged<EasyHandle.Sink>.fromOpaque(user).takeUnretainedValue()
    let n = size * count
    ptr.withMemoryRebound(to: UInt8.self, capacity: n) { start in
        let line = UnsafeBufferPointer(start: start, count: n)
        if n >= 5, line[0] == UInt8(ascii: "H"), line[1] == UInt8(ascii: "T"), line[2] == UInt8(ascii: "T"), line[3] == UInt8(ascii: "P"),
            line[4] == UInt8(ascii: "/")
        {
            sink.headers = []
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = trimmedHTTPSpace(UnsafeBufferPointer(rebasing: line[..<colon]), lowercasing: true)
        sink.headers.append((name, trimmedHTTPSpace(UnsafeBufferPointer(rebasing: line[(colon + 1)...]))))
    }
    return n
}

/// The bytes as a String without leading and trailing spaces, tabs, CR and LF (ASCII letters
/// lower-cased when asked: header names).
func trimmedHTTPSpace(_ bytes: UnsafeBufferPointer<UInt8>, lowercasing: Bool = false) -> String {
    let kept = UnsafeBufferPointer(rebasing: bytes[ASCII.trimmedBounds(bytes, dropping: ASCII.isWhitespace)])
    guard lowercasing else { return String(decoding: kept, as: UTF8.self) }
    return String(unsafeUninitializedCapacity: kept.count) { out in
        for (i, b) in kept.enumerated() { out[i] = ASCII.lowercased(b) }
        return kept.count
    }
}

private func readCallback(_ ptr: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    guard let ptr, let user else { return 0 }
    let sink = Unmanaged<EasyHandle.Sink>.fromOpaque(user).takeUnretainedValue()
    if sink.uploadFD >= 0 {
        while true {
            let got = read(sink.uploadFD, ptr, size * count)
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else {
                sink.readFailed = true
                return Int(CURL_READFUNC_ABORT)
            }
            if got > 0 { sink.onBodySent?(got) }
            return got
        }
    }
    let n = min(size * count, sink.upload.count - sink.uploadOffset)
    if n > 0 {
        sink.upload.withUnsafeBytes { src in
            UnsafeMutableRawPointer(ptr).copyMemory(from: src.baseAddress! + sink.uploadOffset, byteCount: n)
        }
        sink.uploadOffset += n
        sink.onBodySent?(n)
    }
    return n
}
