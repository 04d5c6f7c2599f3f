import TFRegCrypto

@testable import TFRegArchive

/// Builds zips byte by byte (stored or deflate, with or without data descriptors) so that each hostile
/// field can be set on its own; well-formed output is what Go's archive/zip (goreleaser) writes.
struct ZipBuilder {
    struct Item {
        var name: String
        var data: [UInt8]
        var deflate = true
        var descriptor = false
        var mode: UInt32 = 0o100755
        var flags: Int = 0
        var method: Int? = nil
        var crc: UInt32? = nil
        var size: Int? = nil
        var localName: String? = nil
        var localOffset: Int? = nil

        init(_ name: String, _ text: String = "content\n") {
            self.name = name
            self.data = Array(text.utf8)
        }
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// Raw deflate: the gzip writer's output without its 10-byte header and 8-byte trailer.
    static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        let gz = (try? Gzip.compress(bytes)) ?? []
        return Array(gz[10..<(gz.count - 8)])
    }

    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff)] }
    static func le32(_ v: Int) -> [UInt8] { le16(v & 0xffff) + le16(v >> 16 & 0xffff) }

    static func build(_ items: [Item], prefix: [UInt8] = [], gap: [UInt8] = [], comment: [UInt8] = [], trailer: [UInt8] = []) -> [UInt8] {
        var out = prefix
        var central: [UInt8] = []
        for item in items {
            let method = item.method ?? (item.deflate ? 8 : 0)
            let payload = item.deflate ? deflate(item.data) : item.data
            let crc = Int(item.crc ?? crc32(item.data))
            let size = item.size ?? item.data.count
            let flags = item.flags | (item.descriptor ? 0x08 : 0) | 0x800
            let offset = item.localOffset ?? out.count
            let localName = Array((item.localName ?? item.name).utf8)
            let name = Array(item.name.utf8)
            out += le32(0x0403_4B50) + le16(20) + le16(flags) + le16(method) + le16(0) + le16(0x21)
            out += item.descriptor ? le32(0) + le32(0) + le32(0) : le32(crc) + le32(payload.count) + le32(size)
            out += le16(localName.count) + le16(0) + localName + payload
            if item.descriptor { out += le32(0x0807_4B50) + le32(crc) + le32(payload.count) + le32(size) }
            central += le32(0x0201_4B50) + le16(3 << 8 | 20) + le16(20) + le16(flags) + le16(method) + le16(0) + le16(0x21)
            central += le32(crc) + le32(payload.count) + le32(size) + le16(name.count) + le16(0) + le16(0) + le16(0) + le16(0)
            central += le32(Int(item.mode) << 16) + le32(offset) + name
        }
        out += gap
        let cdOffset = out.count
        out += central
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(items.count) + le16(items.count)
        out += le32(central.count) + le32(cdOffset) + le16(comment.count) + comment + trailer
        return out
    }
}
