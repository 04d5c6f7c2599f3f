import Glibc
import TFRegCLI

// The whole program is in TFRegCLI; this only hands it argv (argv[0] picks the role).
await TFReg.main(argv: CommandLine.arguments)
