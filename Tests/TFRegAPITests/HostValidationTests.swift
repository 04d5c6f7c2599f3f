import TFRegAPI
import Testing

/// `URLParsing.isValidHost`: the `host[:port]` a download link may be built from (RFC 3986 §3.2.2).
@Suite struct HostValidationTests {
    @Test(arguments: [
        "registry.example.com", "registry.example.com:8443", "REGISTRY.Example.com", "localhost", "a_b.example", "127.0.0.1",
        "127.0.0.1:1", "10.0.0.1:65535", "[::1]", "[::1]:8443", "[2001:db8::1]", "[::]", "[1:2:3:4:5:6:7:8]", "[::ffff:192.0.2.1]",
        "xn--bcher-kva.example", String(repeating: "a", count: 63) + ".example",
        // Digits in a name are no octets: a long run must not be read (or overflow) as one.
        "a." + String(repeating: "9", count: 60), String(repeating: "9", count: 60) + ".a", "0a.1.2.3", "1.2.3.4a",
    ])
    func accepts(_ host: String) { #expect(URLParsing.isValidHost(host), "\(host)") }

    @Test(arguments: [
        "", ":8443", "a.example:", "a.example:0", "a.example:65536", "a.example:08443", "a.example:1:2", "a.example:+1", "a..example",
        ".a.example", "a.example.", "-a.example", "a-.example", "a b", "a.example/x", "user@a.example", "a.example?x", "a.example#x",
        "999.1.1.1", "1.2.3", "1.2.3.4.5", "[::g]", "[1:2:3:4:5:6:7:8:9]", "[1::2::3]", "[:1]", "[1:]", "[::1", "::1", "[::1]x",
        "[::1]:", "[fe80::1%eth0]", "[v1.x]", "a%2e.example", String(repeating: "a", count: 64) + ".example", "é.example",
        // All-numeric names are IPv4 addresses or nothing (each was an overflow trap in a first one-pass draft).
        String(repeating: "9", count: 60), "1.2.3." + String(repeating: "9", count: 30), String(repeating: "1", count: 64),
        "01234.1.1.1", "256.1.1.1", "1.2.3.4.", "1.2..3",
    ])
    func rejects(_ host: String) { #expect(!URLParsing.isValidHost(host), "\(host)") }
}
