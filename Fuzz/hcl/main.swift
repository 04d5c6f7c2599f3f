import FuzzSupport
import TFRegHCL
import TFRegJSON

/// The HCL parser (native syntax, and JSON syntax with Terraform's block schema): never traps, stays
/// within its limits; whatever native file it accepts, each top-level attribute's source text parses
/// again on its own to the same value.
let schema = HCLJSONSyntax.Schema(blocks: [
    "variable": (1, HCLJSONSyntax.Schema(expressionAttributes: ["type"])),
    "resource": (2, HCLJSONSyntax.Schema()),
    "terraform": (0, HCLJSONSyntax.Schema(blocks: ["required_providers": (0, HCLJSONSyntax.Schema())])),
])

fuzz { bytes in
    _ = HCLJSONSyntax.parse(bytes, filename: "fuzz.tf.json", schema: schema)
    let result = HCLParser.parse(bytes, filename: "fuzz.tf")
    guard result.error == nil else { return }
    for a in result.body.attributes {
        let again = HCLParser.parse(Array("x = \(a.expression.source)\n".utf8), filename: "again.tf")
        guard again.error == nil, let b = again.body.attribute("x") else {
            fatalError("the source text of '\(a.name)' does not parse on its own: \(again.error?.description ?? "")")
        }
        guard b.expression.value == a.expression.value, b.expression.source == a.expression.source else {
            fatalError("the source text of '\(a.name)' parses to another value")
        }
    }
}
