package receipt

import (
	"reflect"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/strictjson"
)

// TestShapeMatchesStruct: the receipt's shape lists exactly the JSON
// members of Receipt, optional exactly where they are omitempty.
func TestShapeMatchesStruct(t *testing.T) {
	if err := strictjson.MatchStruct(receiptShape, reflect.TypeFor[Receipt]()); err != nil {
		t.Fatal(err)
	}
}
