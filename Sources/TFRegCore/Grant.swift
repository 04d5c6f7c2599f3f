/// `identity × namespace → permissions`.
public struct Grant: Sendable, Hashable {
    public var namespace: Namespace
    public var identity: Identity
    public var permissions: Permissions

    public init(namespace: Namespace, identity: Identity, permissions: Permissions) {
        self.namespace = namespace
        self.identity = identity
        self.permissions = permissions
    }
}
