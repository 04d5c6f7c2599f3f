/// Finds loops made of several symlinks to directories: with `a/l -> ../b` and `b/m -> ../a`, anything
/// that follows links (`find -L`, Python's `os.walk(followlinks=True)`, a copying tool) walks a, b, a, …
/// forever. A link to its own directory or to an ancestor is refused before (`resolveLink`). Here each
/// target directory has an edge to the target of every link inside it, and a cycle in that graph is a
/// loop. A path has at most 64 components, so each link lies inside at most 64 targets and the search
/// is linear in the number of links.
struct SymlinkLoops {
    private struct Link {
        var path: [UInt8]
        var directory: ArraySlice<[UInt8]>
        var target: [UInt8]
        var targetKey: String
    }
    private var links: [Link] = []

    /// Records the link at `path`, in `directory`, whose resolved target is the directory `target`.
    mutating func add(path: [UInt8], directory: ArraySlice<[UInt8]>, target: [[UInt8]]) {
        let joined = ArchiveCanonicalization.join(target[...])
        links.append(
            Link(path: path, directory: directory, target: joined, targetKey: ArchiveCanonicalization.fold(joined))
        )
    }

    func refuseLoops() throws(ArchiveError) {
        guard links.count > 1 else { return }
        let targets = Set(links.map(\.targetKey))
        // The links inside each target directory (at any depth).
        var inside: [String: [Int]] = [:]
        for (i, link) in links.enumerated() {
            var key = ""
            for (n, component) in link.directory.enumerated() {
                if n > 0 { key += "/" }
                key += ArchiveCanonicalization.fold(component)
                if targets.contains(key) { inside[key, default: []].append(i) }
            }
        }
        // Depth first from every target; a target met again while it is on the path closes a loop.
        var finished: [String: Bool] = [:]  // false while on the path, true once everything below is done
        for start in links.map(\.targetKey) where finished[start] == nil {
            var path: [(key: String, next: Int)] = [(start, 0)]
            finished[start] = false
            while let top = path.last {
                let below = inside[top.key] ?? []
                guard top.next < below.count else {
                    finished[top.key] = true
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let link = links[below[top.next]]
                switch finished[link.targetKey] {
                case nil:
                    finished[link.targetKey] = false
                    path.append((link.targetKey, 0))
                case false?:
                    throw ArchiveError(
                        "symlink \(StrictTarReader.printable(link.path)) points to \(StrictTarReader.printable(link.target)), from where links lead back to it: a loop for anything that follows links"
                    )
                case true?:
                    break
                }
            }
        }
    }
}
