import TFRegSystem

/// Where requests for a service go: `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `AWS_ENDPOINT_URL_DYNAMODB`),
/// else `AWS_ENDPOINT_URL`, else the partition's real endpoint — the standard variables the AWS CLI
/// and SDKs read (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` turns the variables off.
public struct AWSEndpoint: Sendable, Equatable {
    /// `https://host[:port]` or `http://…`, no trailing slash.
    public let baseURL: String
    /// Whether the endpoint came from configuration (then S3 uses path-style addressing).
    public let isCustom: Bool

    public var host: String {
        let rest = baseURL.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first ?? ""
        return String(rest)
    }

    public static func resolve(service: String, region: String, environment: [String: String]) -> AWSEndpoint {
        let ignore = environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true"
        if !ignore {
            let key = "AWS_ENDPOINT_URL_" + service.uppercased().replacing(" ", with: "_").replacing("-", with: "_")
            if let url = environment[key], !url.isEmpty { return AWSEndpoint(baseURL: trim(url), isCustom: true) }
            if let url = environment["AWS_ENDPOINT_URL"], !url.isEmpty { return AWSEndpoint(baseURL: trim(url), isCustom: true) }
        }
        return AWSEndpoint(baseURL: "https://\(service).\(region).\(dnsSuffix(region: region))", isCustom: false)
    }

    /// A region name's grammar (`us-east-1`, `cn-north-1`, `us-gov-west-1`): lower-case letters,
    /// digits and single hyphens, starting with a letter; what may go into a host name or a scope.
    public static func isValidRegion(_ region: String) -> Bool {
        let b = Array(region.utf8)
        guard (4...32).contains(b.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b[0]), b.last != UInt8(ascii: "-") else { return false }
        var previousHyphen = false
        for c in b {
            let hyphen = c == UInt8(ascii: "-")
            guard hyphen || ASCII.isLowerAlnum(c),
                !(hyphen && previousHyphen)
            else { return false }
            previousHyphen = hyphen
        }
        return true
    }

    /// The partition's DNS suffix for a region.
    public static func dnsSuffix(region: String) -> String {
        region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
    }

    /// The partition name (`aws`, `aws-cn`, `aws-us-gov`) of a region.
    public static func partition(region: String) -> String {
        if region.hasPrefix("cn-") { return "aws-cn" }
        if region.hasPrefix("us-gov-") { return "aws-us-gov" }
        return "aws"
    }

    static func trim(_ url: String) -> String {
        var u = url
        while u.hasSuffix("/") { u.removeLast() }
        return u
    }
}
