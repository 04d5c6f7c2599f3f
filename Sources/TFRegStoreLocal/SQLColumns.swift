/// The columns a query selects, declared once as an enum: `selectList` is the SQL (each case's name
/// in snake_case, in declaration order) and `row[column]` reads the value at the same position, so
/// the SELECT list and the decoding can never disagree.
protocol SQLColumns: CaseIterable, RawRepresentable where RawValue == Int {}

extension SQLColumns {
    /// `namespace, name, …, published_at, …`: the cases in order, camelCase → snake_case.
    static var selectList: String {
        allCases.map { column in
            String(String(describing: column).flatMap { $0.isUppercase ? ["_", Character($0.lowercased())] : [$0] })
        }.joined(separator: ", ")
    }

    static var count: Int { allCases.count }
}

extension Array where Element == SQLValue {
    /// The value of `column` in a row selected with `C.selectList`.
    subscript<C: SQLColumns>(_ column: C) -> SQLValue { self[column.rawValue] }
}
