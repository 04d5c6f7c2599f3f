// tfreg builds and runs on Linux only (glibc): it is a server and a Lambda function, both on Linux,
// and it reaches the system through Glibc directly (`import Glibc` in each file that needs it, no
// `#if canImport` branches for platforms nothing builds or tests). A port would start here.
#if !os(Linux)
#error("tfreg builds on Linux (glibc) only: see docs/architecture.md, \"Platform\"")
#endif
