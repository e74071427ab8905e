package attest

// The shapes, for the strict vectors (package attest_test).
var (
	AttestationShape = attestationShape
	BundleShape      = bundleShape
)
