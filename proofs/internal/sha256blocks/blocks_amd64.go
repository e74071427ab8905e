//go:build amd64 && !purego

package sha256blocks

import "golang.org/x/sys/cpu"

// useSHANI is whether the SHA-NI paths run; tests turn it off to check the
// portable path on the same machine. golang.org/x/sys/cpu reports AVX only
// when the OS saves its registers; it has no SHA flag, so cpuidSHA asks.
var useSHANI = cpu.X86.HasAVX && cpu.X86.HasSSE41 && cpu.X86.HasSSSE3 && cpuidSHA()

//go:noescape
func blocksSHANI(h *State, p []byte)

//go:noescape
func blocks2SHANI(h1, h2 *State, p1, p2 []byte)

func cpuidSHA() bool

func blocks(s *State, p []byte) {
	if useSHANI {
		blocksSHANI(s, p)
		return
	}
	blocksGeneric(s, p)
}

func blocks2(s1, s2 *State, p1, p2 []byte) {
	if useSHANI {
		blocks2SHANI(s1, s2, p1, p2)
		return
	}
	blocksGeneric(s1, p1)
	blocksGeneric(s2, p2)
}
