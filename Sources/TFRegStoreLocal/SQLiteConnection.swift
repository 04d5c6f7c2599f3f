import CSQLite
import Dispatch
import TFRegCore
import TFRegSystem

/// A value bound to or read from a statement.
enum SQLValue: Sendable, Equatable {
    case text(String)
    case integer(Int64)
    case null
}

typealias SQLRow = [SQLValue]

struct SQLiteError: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    var description: String { "sqlite error \(code): \(message)" }
    var isConstraint: Bool { code & 0xff == SQLITE_CONSTRAINT }
    var isBusy: Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }
}

private let SQLITE_TRANSIENT = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// Owns one sqlite3 handle. Every call runs on the connection's own serial dispatch queue, so
/// blocking `sqlite3_step` (disk I/O, busy waits) never occupies Swift's cooperative thread pool,
/// and the handle is never used from two threads at once. Prepared statements are cached by SQL text.
final class SQLiteConnection: @unchecked Sendable {
    private var db: OpaquePointer?
    private let queue: DispatchQueue
    private var statements: [String: OpaquePointer] = [:]
    /// While non-nil, `query` adds each statement's virtual-machine steps to it: the work of several
    /// statements (a search) that tests compare across table sizes. Set and read on the queue (`sync`).
    var stepCounter: Int?

    init(path: String, readOnly: Bool = false) throws(SQLiteError) {
        queue = DispatchQueue(label: "tfreg.sqlite")
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open database"
            sqlite3_close_v2(handle)
            throw SQLiteError(code: rc, message: message)
        }
        let timeout = sqlite3_busy_timeout(handle, 5000)
        guard timeout == SQLITE_OK else {
            let message = String(cString: sqlite3_errmsg(handle))
            sqlite3_close_v2(handle)
            throw SQLiteError(code: timeout, message: "cannot set the busy timeout: \(message)")
        }
        db = handle
    }

    deinit {
        for stmt in statements.values { sqlite3_finalize(stmt) }
        sqlite3_close_v2(db)
    }

    /// Runs `body` on the connection's queue and resumes the caller with its result.
    func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws(SQLiteError) -> T) async throws(SQLiteError) -> T {
        try await Blocking.run(on: queue) { () throws(SQLiteError) -> T in try body(self) }
    }

    /// Synchronous form, for start-up and CLI code that is not on the cooperative pool's hot path.
    func sync<T>(_ body: (SQLiteConnection) throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        let result: Result<T, SQLiteError> = queue.sync {
            do throws(SQLiteError) { return .success(try body(self)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private func error(_ rc: Int32) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db)))
    }

    /// Executes one or more statements without results.
    func execute(_ sql: String) throws(SQLiteError) {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? "error"
            sqlite3_free(err)
            throw SQLiteError(code: rc, message: message)
        }
    }

    /// Runs a statement with bound parameters and returns all rows.
    @discardableResult
    func query(_ sql: String, _ params: [SQLValue] = []) throws(SQLiteError) -> [SQLRow] {
        let stmt = try prepared(sql)
        if stepCounter != nil { _ = sqlite3_stmt_status(stmt, Int32(SQLITE_STMTSTATUS_VM_STEP), 1) }
        defer {
            if let steps = stepCounter { stepCounter = steps + Int(sqlite3_stmt_status(stmt, Int32(SQLITE_STMTSTATUS_VM_STEP), 0)) }
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
        }
        for (i, p) in params.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch p {
            case .text(let s): rc = sqlite3_bind_text(stmt, idx, s, -1, SQLITE_TRANSIENT)
            case .integer(let v): rc = sqlite3_bind_int64(stmt, idx, v)
            case .null: rc = sqlite3_bind_null(stmt, idx)
            }
            guard rc == SQLITE_OK else { throw error(rc) }
        }
        var rows: [SQLRow] = []
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error(rc) }
            let n = sqlite3_column_count(stmt)
            var row: SQLRow = []
            row.reserveCapacity(Int(n))
            for c in 0..<n {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(stmt, c)))
                case SQLITE_NULL: row.append(.null)
                default: row.append(.text(String(cString: sqlite3_column_text(stmt, c))))
                }
            }
            rows.append(row)
        }
        return rows
    }

    /// `query`, and the virtual-machine steps it took (`SQLITE_STMTSTATUS_VM_STEP`): the work SQLite
    /// did, which tests compare across table sizes (issue 19: a page costs the same at 100 and 10 000).
    func queryCountingSteps(_ sql: String, _ params: [SQLValue] = []) throws(SQLiteError) -> (rows: [SQLRow], steps: Int) {
        let stmt = try prepared(sql)
        _ = sqlite3_stmt_status(stmt, Int32(SQLITE_STMTSTATUS_VM_STEP), 1)
        let rows = try query(sql, params)
        return (rows, Int(sqlite3_stmt_status(stmt, Int32(SQLITE_STMTSTATUS_VM_STEP), 0)))
    }

    /// Number of rows changed by the last statement.
    var changes: Int { Int(sqlite3_changes(db)) }

    /// Runs `body` in an IMMEDIATE transaction (takes the write lock at once, so no upgrade deadlocks).
    func transaction<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Copies this database into `path` with SQLite's online backup API: a consistent snapshot even
    /// while other connections write (the copy restarts if the source changes under it).
    func backup(to path: String) throws(SQLiteError) {
        var dest: OpaquePointer?
        var rc = sqlite3_open_v2(path, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil)
        defer { sqlite3_close_v2(dest) }
        guard rc == SQLITE_OK, let dest else { throw SQLiteError(code: rc, message: "cannot open \(path)") }
        guard let backup = sqlite3_backup_init(dest, "main", db, "main") else {
            throw SQLiteError(code: sqlite3_errcode(dest), message: String(cString: sqlite3_errmsg(dest)))
        }
        repeat {
            rc = sqlite3_backup_step(backup, 256)
            if rc == SQLITE_BUSY || rc == SQLITE_LOCKED { sqlite3_sleep(5) }
        } while rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED
        sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE else { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(dest))) }
    }

    private func prepared(_ sql: String) throws(SQLiteError) -> OpaquePointer {
        if let stmt = statements[sql] { return stmt }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc) }
        statements[sql] = stmt
        return stmt
    }
}

extension SQLValue {
    var string: String? { if case .text(let s) = self { s } else { nil } }
    var int: Int64? { if case .integer(let v) = self { v } else { nil } }
}
