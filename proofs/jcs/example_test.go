package jcs_test

import (
	"fmt"

	"github.com/kosh-reserve/kosh/proofs/jcs"
)

func ExampleCanonicalize() {
	out, err := jcs.Canonicalize([]byte(`{"total": "2100000000000000", "asset": "SAT", "ratio": 1.50, "big": 1E21}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	fmt.Println(jcs.IsCanonical(out))
	// Output:
	// {"asset":"SAT","big":1e+21,"ratio":1.5,"total":"2100000000000000"}
	// true
}

func ExampleCanonicalize_duplicateKey() {
	_, err := jcs.Canonicalize([]byte(`{"total":"1","total":"2"}`))
	fmt.Println(err)
	// Output:
	// jcs: member name "total" repeated at byte offset 13: duplicate object member name
}
