/// What a grant allows in one namespace (the permission set of the tool we replace).
public enum Permission: String, Sendable, CaseIterable {
    case download
    case upload
    case createGrant = "create_grant"
    case deleteGrant = "delete_grant"
}

public struct Permissions: Sendable, Hashable, CustomStringConvertible {
    public var download: Bool
    public var upload: Bool
    public var createGrant: Bool
    public var deleteGrant: Bool

    public init(download: Bool = false, upload: Bool = false, createGrant: Bool = false, deleteGrant: Bool = false) {
        self.download = download
        self.upload = upload
        self.createGrant = createGrant
        self.deleteGrant = deleteGrant
    }

    public static let none = Permissions()

    public func allows(_ p: Permission) -> Bool {
        switch p {
        case .download: download
        case .upload: upload
        case .createGrant: createGrant
        case .deleteGrant: deleteGrant
        }
    }

    /// True when every permission in `other` is also in `self` (used to forbid escalation).
    public func covers(_ other: Permissions) -> Bool {
        Permission.allCases.allSatisfy { !other.allows($0) || allows($0) }
    }

    public var isEmpty: Bool { !download && !upload && !createGrant && !deleteGrant }

    public var description: String {
        let names = Permission.allCases.filter(allows).map(\.rawValue)
        return names.isEmpty ? "none" : names.joined(separator: ",")
    }

}
