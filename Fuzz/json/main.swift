import FuzzSupport
import TFRegAPI
import TFRegJSON

/// The request-body JSON parser: never traps; whatever it accepts serializes back to bytes that
/// parse to the same value, and that serialization is a fixed point.
fuzz { bytes in
    guard let value = try? JSONParser.parse(bytes) else { return }
    let written = value.serialized()
    guard let again = try? JSONParser.parse(written) else { fatalError("the writer's output does not parse") }
    guard again.serialized() == written else { fatalError("the round trip changed the value") }
}
