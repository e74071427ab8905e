//go:build !amd64 || purego

package sha256blocks

// useSHANI is false: there is no SHA-NI path on this build.
var useSHANI = false

func blocks(s *State, p []byte) { blocksGeneric(s, p) }

func blocks2(s1, s2 *State, p1, p2 []byte) {
	blocksGeneric(s1, p1)
	blocksGeneric(s2, p2)
}
