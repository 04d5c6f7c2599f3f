import Foundation
import TFRegAWS
import TFRegHTTPClient
import Testing

extension MotoBackedTests {
    /// One presigned GetCallerIdentity, exchanged at two `tfreg serve` processes sharing a DynamoDB
    /// table (as two Lambda instances do): the first exchange gets a token, every later one a 401,
    /// whichever process it reaches. On SQLite the process's own memory refuses the replay.
    @Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
    struct ReplayGuardProcessTests {
        static let audience = "registry.example.com"

        func signed(_ moto: MotoServer, at now: Int64) -> [(name: String, value: String)] {
            let headers: [(name: String, value: String)] = [
                ("Host", "sts.us-east-1.amazonaws.com"), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                ("X-TFReg-Audience", Self.audience),
            ]
            return SigV4Signer(service: "sts", region: "us-east-1").sign(
                SigV4Request(method: "POST", path: "/", headers: headers, body: Array("Action=GetCallerIdentity&Version=2011-06-15".utf8)),
                credentials: AWSCredentials(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey),
                now: now
            ).headers
        }

        func exchange(_ server: ServerProcess, _ headers: [(name: String, value: String)]) async throws -> HTTPResponse {
            let h = headers.map { "\"\($0.name)\": \"\($0.value)\"" }.joined(separator: ", ")
            let json =
                #"{"method": "POST", "url": "https://sts.us-east-1.amazonaws.com/", "headers": {\#(h)}, "body": "Action=GetCallerIdentity&Version=2011-06-15"}"#
            return try await server.client.send(
                HTTPRequest(method: "POST", url: server.baseURL + "/token", headers: [("Content-Type", "application/json")], body: Array(json.utf8))
            )
        }

        func env(_ moto: MotoServer) -> [String: String] {
            [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true", "TFREG_AUDIENCE": Self.audience,
            ]
        }

        @Test func aSignedRequestIsExchangedOnceAcrossProcessesSharingATable() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            try await DynamoDBClient(client: moto.client()).createTable("registry")
            let awsEnv = env(moto).merging(["TABLE_NAME": "registry"]) { a, _ in a }
            let a = try ServerProcess(extraEnv: awsEnv)
            let b = try ServerProcess(extraEnv: awsEnv)
            let now = Int64(Date().timeIntervalSince1970)
            let request = signed(moto, at: now)
            let first = try await exchange(a, request)
            #expect(first.status == 200 && first.bodyText.contains("\"token\":\"tfi_"), "\(first.bodyText)")
            for (server, name) in [(a, "the same process"), (b, "another process on the table")] {
                let replay = try await exchange(server, request)
                #expect(replay.status == 401, "replay at \(name): \(replay.status) \(replay.bodyText)")
                #expect(replay.bodyText == #"{"errors":["this signed request was already used; sign a new one"]}"#, "\(replay.bodyText)")
            }
            // A newly signed request (another X-Amz-Date, so another signature) works at either.
            let fresh = try await exchange(b, signed(moto, at: now + 1))
            #expect(fresh.status == 200, "\(fresh.bodyText)")
            // The record is in the table with its TTL attribute.
            let items = try await DynamoDBClient(client: moto.client()).scan(
                table: "registry",
                filter: .init("sk = :s", values: [":s": .s("SignedRequest")])
            )
            #expect(items.count == 2 && items.allSatisfy { ($0["expires_at"]?.int ?? 0) >= now + 15 * 60 }, "\(items)")
            #expect(a.stop() == 0 && b.stop() == 0)
        }

        @Test func aSignedRequestIsExchangedOnceBySQLiteServe() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let server = try ServerProcess(extraEnv: env(moto))
            let request = signed(moto, at: Int64(Date().timeIntervalSince1970))
            #expect(try await exchange(server, request).status == 200)
            let replay = try await exchange(server, request)
            #expect(replay.status == 401 && replay.bodyText.contains("already used"), "\(replay.bodyText)")
            #expect(server.stop() == 0)
        }
    }
}
