import CLibFuzzer

import Glibc

/// The one function a target's `main.swift` calls: hands argv to libFuzzer's driver, which calls
/// `body` with every input (on the main thread) and exits. SwiftPM gives every executable its own
/// `main`, so libFuzzer runs as a library (`LLVMFuzzerRunDriver`) instead of supplying `main`.
/// `body` signals a violated property with `fatalError` (or any trap): libFuzzer then writes the
/// input to its artifact prefix and exits non-zero.
public func fuzz(_ body: @escaping @MainActor ([UInt8]) -> Void) -> Never {
    target = body
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in testOneInput(data, size) }
    exit(status)
}

nonisolated(unsafe) private var target: (@MainActor ([UInt8]) -> Void)?

/// -sanitize=fuzzer links all of libFuzzer, its unused `main` included, which refers to this.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    MainActor.assumeIsolated { target?(input) }
    return 0
}
