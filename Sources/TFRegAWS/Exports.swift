// The signer is its own target (TFRegSigV4: pure functions, no I/O); every AWS client signs with it,
// so importing TFRegAWS brings AWSCredentials and SigV4Signer along.
@_exported import TFRegSigV4
