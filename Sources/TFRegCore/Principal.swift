/// The authenticated caller of a request. `nil` principal means no credentials were presented.
public struct Principal: Sendable, Hashable {
    public let identity: Identity
    public init(identity: Identity) { self.identity = identity }
}
