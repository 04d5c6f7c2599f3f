import TFRegAWS
import TFRegCore
import TFRegCrypto

/// `ModuleStore` on DynamoDB: version, precedence and tombstone items in the namespace's partition
/// (see the item table in `DynamoDBMetadataStore`; summaries are in `+Summaries`).
extension DynamoDBMetadataStore {
    static func record(_ item: DynamoDBItem) -> ModuleVersionRecord? {
        guard let ns = item["namespace"]?.string, let name = item["name"]?.string, let system = item["system"]?.string,
            let v = item["version"]?.string, let key = item["key"]?.string,
            let module = try? ModuleAddress(namespace: ns, name: name, system: system), let version = try? Version(v)
        else { return nil }
        var sha = item["sha256"]?.string ?? ""
        if sha.isEmpty, let expected = item["expected_checksum"]?.string {
            // The replaced tool stores S3's base64 ChecksumSHA256; tfreg works in hex.
            sha = Base64.decode(expected).flatMap { $0.count == 32 ? Hex.encode($0) : nil } ?? expected.lowercased()
        }
        let bucket = item["bucket"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        let deprecation = item["deprecated_at"]?.int.map {
            Deprecation(
                reason: item["deprecation_reason"]?.string ?? "",
                replacement: item["deprecation_replacement"]?.string,
                at: $0,
                by: item["deprecated_by"]?.string
            )
        }
        return ModuleVersionRecord(
            module: module,
            version: version,
            location: ArchiveLocation(bucket: bucket, key: key),
            sha256: sha,
            size: item["size"]?.int ?? 0,
            publishedAt: item["published_at"]?.int ?? 0,
            publishedBy: item["published_by"]?.string,
            deprecation: deprecation,
            description: item["description"]?.string,
            source: item["source"]?.string,
            docsKey: item["docs_key"]?.string
        )
    }

    static func item(_ r: ModuleVersionRecord) -> DynamoDBItem {
        var item: DynamoDBItem = [
            "pk": .s(r.module.namespace.value), "sk": .s(versionSK(r.module, r.version.description)),
            "namespace": .s(r.module.namespace.value), "name": .s(r.module.name), "system": .s(r.module.system),
            "version": .s(r.version.description), "key": .s(r.location.key), "sha256": .s(r.sha256),
            "size": .n(String(r.size)), "published_at": .n(String(r.publishedAt)),
        ]
        if let bucket = r.location.bucket { item["bucket"] = .s(bucket) }
        if let digest = Hex.decode(r.sha256), digest.count == 32 { item["expected_checksum"] = .s(Base64.encode(digest)) }
        if let by = r.publishedBy { item["published_by"] = .s(by) }
        // Documentation itself is a blob (`docs_key`), never in the item: an item stays far below
        // DynamoDB's 400 KB whatever the README's size.
        if let d = r.description { item["description"] = .s(d) }
        if let x = r.source { item["source"] = .s(x) }
        if let k = r.docsKey { item["docs_key"] = .s(k) }
        if let d = r.deprecation {
            item["deprecated_at"] = .n(String(d.at))
            item["deprecation_reason"] = .s(d.reason)
            if let x = d.replacement { item["deprecation_replacement"] = .s(x) }
            if let by = d.by { item["deprecated_by"] = .s(by) }
        }
        return item
    }

    public func versions(of module: ModuleAddress) async throws(RegistryError) -> [ModuleVersionRecord] {
        try await wrap { () async throws(AWSError) in
            try await dynamo.query(
                table: table,
                keyCondition: .init(
                    "pk = :pk AND begins_with(sk, :prefix)",
                    values: [":pk": .s(module.namespace.value), ":prefix": .s(Self.modulePrefix(module))]
                )
            )
        }.compactMap(Self.record).filter { $0.module == module }
    }

    public func version(_ version: Version, of module: ModuleAddress) async throws(RegistryError) -> ModuleVersionRecord? {
        try await wrap { () async throws(AWSError) in
            try await dynamo.getItem(table: table, key: ["pk": .s(module.namespace.value), "sk": .s(Self.versionSK(module, version.description))])
        }.flatMap(Self.record)
    }

    public func allVersions(in namespace: Namespace?) async throws(RegistryError) -> [ModuleVersionRecord] {
        try await wrap { () async throws(AWSError) in
            if let namespace {
                return try await dynamo.query(
                    table: table,
                    keyCondition: .init(
                        "pk = :pk AND begins_with(sk, :prefix)",
                        values: [":pk": .s(namespace.value), ":prefix": .s("Module~")]
                    )
                )
            }
            return try await dynamo.scan(table: table, filter: .init("begins_with(sk, :prefix)", values: [":prefix": .s("Module~")]))
        }.compactMap(Self.record)
    }

    public func insertVersion(_ record: ModuleVersionRecord) async throws(RegistryError) {
        let ns = record.module.namespace.value
        for _ in 0..<Self.summaryAttempts {
            let base = try await summaryBase(record.module, readingVersions: false)
            let next =
                base.current.map { $0.adding(record) } ?? base.summary(of: (base.records ?? []).filter { $0.version != record.version } + [record])
            do {
                try await dynamo.transactWrite(
                    [
                        .put(
                            table: table,
                            item: ["pk": .s(ns), "sk": .s(Self.precedenceSK(record.module, record.version))],
                            condition: .init("attribute_not_exists(pk)")
                        ),
                        .put(table: table, item: Self.item(record), condition: .init("attribute_not_exists(pk)")),
                    ] + summaryWrites(base, summary: next)
                )
                return
            } catch {
                if error.kind == .conditionalCheckFailed || error.code == "TransactionCanceledException" {
                    // The version's conditions, or only the summary's (another writer of the module): retry that.
                    let precedence = try await wrap { () async throws(AWSError) in
                        try await dynamo.getItem(table: table, key: ["pk": .s(ns), "sk": .s(Self.precedenceSK(record.module, record.version))])
                    }
                    // Versions the replaced tool wrote have no precedence item: only then are the versions read.
                    var taken = precedence != nil
                    if !taken {
                        let records: [ModuleVersionRecord]
                        if let known = base.records { records = known } else { records = try await versions(of: record.module) }
                        taken = records.contains { $0.version.hasSamePrecedence(as: record.version) }
                    }
                    if taken {
                        throw .conflict("version \(record.version) of module \(record.module) already exists; versions are immutable")
                    }
                    continue
                }
                throw map(error)
            }
        }
        throw Self.summaryContention(record.module)
    }

    public func tombstoneVersion(
        _ version: Version,
        of module: ModuleAddress,
        at: Int64,
        by: String?
    ) async throws(RegistryError) -> ModuleVersionRecord? {
        let ns = module.namespace.value
        let key: DynamoDBItem = ["pk": .s(ns), "sk": .s(Self.versionSK(module, version.description))]
        guard let existing = try await wrap({ () async throws(AWSError) in try await dynamo.getItem(table: table, key: key) }).flatMap(Self.record)
        else {
            return nil
        }
        var tombstone: DynamoDBItem = [
            "pk": .s(ns), "sk": .s(Self.tombstoneSK(module, version.description)), "version": .s(version.description),
            "sha256": .s(existing.sha256), "deleted_at": .n(String(at)),
        ]
        if let by { tombstone["deleted_by"] = .s(by) }
        for _ in 0..<Self.summaryAttempts {
            // Both keys: an older binary may have written the old key again after the move; deleting
            // the module's last version must remove that item too, or it lists a module with no version
            // (one GetItem more per delete; a publish reads the new key only).
            let base = try await summaryBase(module, bothKeys: true)
            let records = base.records ?? []
            guard records.contains(where: { $0.version == version }) else { return nil }
            do {
                try await dynamo.transactWrite(
                    [
                        .delete(table: table, key: key, condition: .init("attribute_exists(pk)")),
                        .put(table: table, item: tombstone, condition: nil),
                        // Versions the replaced tool wrote have no precedence item: reserve the number now.
                        .put(table: table, item: ["pk": .s(ns), "sk": .s(Self.precedenceSK(module, version))], condition: nil),
                    ] + summaryWrites(base, summary: base.summary(of: records.filter { $0.version != version }))
                )
                return existing
            } catch {
                // Deleted meanwhile (the next round finds no version), or the summary moved: retry.
                if error.kind == .conditionalCheckFailed || error.code == "TransactionCanceledException" { continue }
                throw map(error)
            }
        }
        throw Self.summaryContention(module)
    }

    public func tombstones(of module: ModuleAddress) async throws(RegistryError) -> [VersionTombstone] {
        let prefix = Self.tombstoneSK(module, "")
        return try await wrap { () async throws(AWSError) in
            try await dynamo.query(
                table: table,
                keyCondition: .init(
                    "pk = :pk AND begins_with(sk, :prefix)",
                    values: [":pk": .s(module.namespace.value), ":prefix": .s(prefix)]
                )
            )
        }.compactMap { item in
            guard let v = item["version"]?.string.flatMap({ try? Version($0) }), let sha = item["sha256"]?.string, let at = item["deleted_at"]?.int
            else { return nil }
            return VersionTombstone(module: module, version: v, sha256: sha, deletedAt: at, deletedBy: item["deleted_by"]?.string)
        }
    }

    public func replaceArchive(
        of version: Version,
        of module: ModuleAddress,
        from: ArchiveLocation,
        to: ArchiveLocation,
        sha256: String,
        size: Int64
    ) async throws(RegistryError) -> Bool {
        let key: DynamoDBItem = ["pk": .s(module.namespace.value), "sk": .s(Self.versionSK(module, version.description))]
        // Only the archive's attributes change (UpdateItem, not a rewrite of the item), and only while
        // the item still names `from`: a deprecation written meanwhile is kept (issue 17).
        // `key` and `size` are DynamoDB reserved words (and `bucket` is named alike): always by #name.
        var set = ["#key = :to", "sha256 = :sha", "#size = :size"]
        var remove: [String] = []
        var values: DynamoDBItem = [":to": .s(to.key), ":sha": .s(sha256), ":size": .n(String(size)), ":from": .s(from.key)]
        if let bucket = to.bucket {
            set.append("#bucket = :bucket")
            values[":bucket"] = .s(bucket)
        } else {
            remove.append("#bucket")
        }
        if let digest = Hex.decode(sha256), digest.count == 32 {
            set.append("expected_checksum = :checksum")
            values[":checksum"] = .s(Base64.encode(digest))
        } else {
            remove.append("expected_checksum")
        }
        var condition = "#key = :from AND "
        if let bucket = from.bucket {
            condition += "#bucket = :fromBucket"
            values[":fromBucket"] = .s(bucket)
        } else {
            // The replaced tool may have written an empty bucket for "none" (`record` reads it so).
            condition += "(attribute_not_exists(#bucket) OR #bucket = :none)"
            values[":none"] = .s("")
        }
        let update = "SET " + set.joined(separator: ", ") + (remove.isEmpty ? "" : " REMOVE " + remove.joined(separator: ", "))
        do {
            _ = try await dynamo.updateItem(
                table: table,
                key: key,
                update: .init(update, names: ["#key": "key", "#bucket": "bucket", "#size": "size"], values: values),
                condition: .init(condition)
            )
        } catch {
            if error.kind == .conditionalCheckFailed { return false }
            throw map(error)
        }
        await refreshSummaryAfterChange(of: module)
        return true
    }

    public func setDeprecation(
        _ deprecation: Deprecation?,
        version: Version,
        of module: ModuleAddress
    ) async throws(RegistryError) -> ModuleVersionRecord? {
        let key: DynamoDBItem = ["pk": .s(module.namespace.value), "sk": .s(Self.versionSK(module, version.description))]
        // Only the deprecation attributes change (UpdateItem), on an item that exists: an archive
        // replaced meanwhile (import-legacy) and attributes the replaced tool wrote are kept (issue 17).
        let update: DynamoDBClient.Expression
        if let d = deprecation {
            var set = ["deprecated_at = :at", "deprecation_reason = :reason"]
            var remove: [String] = []
            var values: DynamoDBItem = [":at": .n(String(d.at)), ":reason": .s(d.reason)]
            if let x = d.replacement {
                set.append("deprecation_replacement = :replacement")
                values[":replacement"] = .s(x)
            } else {
                remove.append("deprecation_replacement")
            }
            if let by = d.by {
                set.append("deprecated_by = :by")
                values[":by"] = .s(by)
            } else {
                remove.append("deprecated_by")
            }
            update = .init("SET " + set.joined(separator: ", ") + (remove.isEmpty ? "" : " REMOVE " + remove.joined(separator: ", ")), values: values)
        } else {
            update = .init("REMOVE deprecated_at, deprecation_reason, deprecation_replacement, deprecated_by")
        }
        let after: DynamoDBItem?
        do {
            after = try await dynamo.updateItem(table: table, key: key, update: update, condition: .init("attribute_exists(pk)"))
        } catch {
            if error.kind == .conditionalCheckFailed { return nil }
            throw map(error)
        }
        guard let after, let record = Self.record(after) else {
            throw .unavailable("the metadata table", detail: "UpdateItem answered without a readable version item")
        }
        await refreshSummaryAfterChange(of: module)
        return record
    }
}

extension DynamoDBMetadataStore {
    public func setDocumentation(
        docsKey: String,
        description: String?,
        version: Version,
        of module: ModuleAddress
    ) async throws(RegistryError) -> ModuleVersionRecord? {
        let key: DynamoDBItem = ["pk": .s(module.namespace.value), "sk": .s(Self.versionSK(module, version.description))]
        // Only these attributes change (UpdateItem), on an item that exists (as `setDeprecation`).
        var set = ["docs_key = :docs"]
        var values: DynamoDBItem = [":docs": .s(docsKey)]
        if let description {
            set.append("description = :description")
            values[":description"] = .s(description)
        }
        let after: DynamoDBItem?
        do {
            after = try await dynamo.updateItem(
                table: table,
                key: key,
                update: .init("SET " + set.joined(separator: ", "), values: values),
                condition: .init("attribute_exists(pk)")
            )
        } catch {
            if error.kind == .conditionalCheckFailed { return nil }
            throw map(error)
        }
        guard let after, let record = Self.record(after) else {
            throw .unavailable("the metadata table", detail: "UpdateItem answered without a readable version item")
        }
        await refreshSummaryAfterChange(of: module)
        return record
    }
}

extension DynamoDBMetadataStore {
    /// Where the table's versions keep their archives, from a bounded look: one Scan page
    /// (`DynamoDBClient.scanFirstPage`: one call reading at most 1 MB of the table) of the version
    /// items, returning only their `sk` and `bucket`. `serve`, `serve --check-config`, `lambda` and
    /// `import-legacy` read it once at start to refuse a storage setting that cannot serve them.
    public func archivePlacement() async throws(RegistryError) -> ArchivePlacement {
        let (items, more) = try await wrap { () async throws(AWSError) in
            try await dynamo.scanFirstPage(
                table: table,
                filter: .init("begins_with(sk, :m)", names: ["#b": "bucket"], values: [":m": .s("Module~")]),
                projection: "sk, #b"
            )
        }
        return ArchivePlacement(versionItems: items, complete: !more)
    }
}
