import Foundation
import TFRegAWS
import TFRegHTTPClient
import Testing

/// Every suite that starts moto is nested here: they run one after another, never several Python
/// servers at once on a 2-core machine.
@Suite(.serialized) enum MotoBackedTests {}

/// moto (`moto_server`, from PyPI) on a free loopback port with signature checking on: the first
/// `setupCalls` requests (creating an IAM user, its access key and an allow-all policy) are the only
/// unauthenticated ones; every later request must carry a valid SigV4 signature.
final class MotoServer: @unchecked Sendable {
    let process = Process()
    let port: Int
    let accessKeyID: String
    let secretAccessKey: String
    var endpoint: String { "http://127.0.0.1:\(port)" }

    static var available: Bool { which("moto_server") != nil }

    init() throws {
        port = try Self.freePort()
        process.executableURL = URL(fileURLWithPath: which("moto_server")!)
        process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        var env = ProcessInfo.processInfo.environment
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? runCommand("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port)"]).status) == 0 { break }
            usleep(100_000)
        }
        let setup = try runCommand(
            which("python3")!,
            [
                "-c",
                """
                import boto3, json
                ep = "http://127.0.0.1:\(port)"
                iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
                iam.create_user(UserName="tfreg-test")
                key = iam.create_access_key(UserName="tfreg-test")["AccessKey"]
                iam.put_user_policy(UserName="tfreg-test", PolicyName="all", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
                print(key["AccessKeyId"]); print(key["SecretAccessKey"])
                """,
            ],
            env: ["HOME": NSTemporaryDirectory()]
        )
        let lines = setup.stdout.split(separator: "\n").map(String.init)
        guard setup.status == 0, lines.count == 2 else {
            kill(process.processIdentifier, SIGKILL)
            throw TestFailure("moto setup failed: \(setup.stderr)")
        }
        accessKeyID = lines[0]
        secretAccessKey = lines[1]
    }

    /// moto's development server does not exit on SIGTERM: SIGKILL it.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    /// An AWSClient that reaches this moto through the standard `AWS_ENDPOINT_URL` variable.
    /// Generous timeout and retries: moto is one Python process and CI machines are shared.
    func client(secret: String? = nil, retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: 0.05)) -> AWSClient {
        AWSClient(
            http: CurlHTTPClient(),
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: accessKeyID, secretAccessKey: secret ?? secretAccessKey)),
            region: "us-east-1",
            environment: ["AWS_ENDPOINT_URL": endpoint],
            retry: retry,
            timeout: 60
        )
    }

    static func freePort() throws -> Int {
        let r = try runCommand(which("python3")!, ["-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"])
        guard let p = Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw TestFailure("no free port") }
        return p
    }
}
