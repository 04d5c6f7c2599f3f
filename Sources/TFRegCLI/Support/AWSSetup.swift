import ArgumentParser
import Glibc
import Logging
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegServer
import TFRegStoreAWS
import TFRegStoreLocal
import TFRegSystem

/// One AWS client per process, configured like the AWS CLI (see `AWSConfiguration.resolve`).
enum AWSSetup {
    /// `metrics`: where its calls are counted (`serve --metrics-listen`).
    static func client(metrics: (any MetricsSink)? = nil) throws -> AWSClient {
        let env = Env.all
        let http = RegistryClient.make(environment: env)
        let config: AWSConfiguration
        do { config = try AWSConfiguration.resolve(environment: env, http: http) } catch {
            throw CLIError.configuration("AWS configuration: \(error.message)")
        }
        return AWSClient(http: http, credentials: config.credentials, region: config.region, environment: env, metrics: metrics)
    }

    /// DynamoDB table names: 3-255 of letters, digits, '_', '-', '.'.
    static func validTable(_ name: String) throws -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.".utf8)
        guard (3...255).contains(name.utf8.count), name.utf8.allSatisfy(allowed.contains) else {
            throw CLIError.configuration("invalid DynamoDB table name '\(name.prefix(80))': 3-255 letters, digits, '_', '-', '.'")
        }
        return name
    }
}
