package attest

import (
	"reflect"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/strictjson"
)

// TestShapeMatchesStruct: the attestation's shape lists exactly the JSON
// members of Attestation, optional exactly where they are omitempty.
func TestShapeMatchesStruct(t *testing.T) {
	if err := strictjson.MatchStruct(attestationShape, reflect.TypeFor[Attestation]()); err != nil {
		t.Fatal(err)
	}
}
