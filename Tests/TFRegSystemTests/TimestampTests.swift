import TFRegSystem
import Testing

@Suite struct RFC3339Tests {
    @Test func roundTrip() {
        #expect(rfc3339(1_800_000_000) == "2027-01-15T08:00:00Z")
        #expect(parseRFC3339("2027-01-15T08:00:00Z") == 1_800_000_000)
    }

    /// A stored `published_at` is input (the DynamoDB table is shared with the tool tfreg replaces):
    /// at the largest time glibc's gmtime accepts, `tm_year` is Int32.max and `tm_year + 1900` trapped,
    /// taking down the server on any versions listing that included the row.
    @Test(arguments: [Int64(67_768_036_191_676_799), 67_768_036_191_676_800, Int64.max, Int64.min, -1])
    func extremeTimesDoNotTrap(_ seconds: Int64) {
        let text = rfc3339(seconds)
        #expect(!text.isEmpty)
    }

    @Test func largestGmtimeYear() {
        #expect(rfc3339(67_768_036_191_676_799) == "2147485547-12-31T23:59:59Z")
    }
}

@Suite struct AWSTimestampTests {
    @Test func amzDateRoundTrip() {
        #expect(amzDate(1_440_938_160) == "20150830T123600Z")
        #expect(parseAmzDate("20150830T123600Z") == 1_440_938_160)
    }

    @Test(arguments: ["", "20150830T123600", "20150830X123600Z", "2015083OT123600Z", "+0150830T123600Z", "20150830T123600Z "])
    func amzDateRejects(_ text: String) {
        #expect(parseAmzDate(text) == nil)
    }

    @Test func iso8601Variants() {
        #expect(parseISO8601("2015-08-30T12:36:00Z") == 1_440_938_160)
        #expect(parseISO8601("2015-08-30t12:36:00z") == 1_440_938_160)
        #expect(parseISO8601("2015-08-30T12:36:00.123456Z") == 1_440_938_160)
        #expect(parseISO8601("2015-08-30T14:36:00+02:00") == 1_440_938_160)
        #expect(parseISO8601("2015-08-30T10:36:00-02:00") == 1_440_938_160)
        #expect(parseISO8601("2015-08-30T12:36:00") == nil)
        #expect(parseISO8601("2015-08-30T12:36:00+0200") == nil)
        #expect(parseISO8601("2015-08-30T12:36:00Zjunk") == nil)
    }

    @Test func rfc3339IsStrict() {
        #expect(parseRFC3339("2015-08-30T12:36:00Z") == 1_440_938_160)
        #expect(parseRFC3339("2015-08-30T12:36:00.1Z") == nil)
        #expect(parseRFC3339("2015-08-30 12:36:00Z") == nil)
        #expect(parseRFC3339("20a5-08-30T12:36:00Z") == nil)
    }

    /// Formatting is total: the SigV4 form shares the Int64 year arithmetic with RFC 3339.
    @Test(arguments: [Int64.max, Int64.min, 67_768_036_191_676_799])
    func amzDateDoesNotTrap(_ seconds: Int64) {
        #expect(!amzDate(seconds).isEmpty)
    }
}
