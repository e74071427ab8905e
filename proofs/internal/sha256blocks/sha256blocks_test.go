package sha256blocks

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// pad returns msg padded as SHA-256 pads a whole message: 0x80, zeros, the
// 64-bit bit length.
func pad(msg []byte) []byte {
	n := (len(msg) + 9 + 63) &^ 63
	b := make([]byte, n)
	copy(b, msg)
	b[len(msg)] = 0x80
	binary.BigEndian.PutUint64(b[n-8:], uint64(len(msg))*8)
	return b
}

// sum hashes msg with Blocks from the IV.
func sum(msg []byte) [32]byte {
	s := IV
	Blocks(&s, pad(msg))
	return s.Digest()
}

// implementations runs f once per block function this machine has, with
// that function selected.
func implementations(t *testing.T, f func(t *testing.T)) {
	saved := useSHANI
	defer func() { useSHANI = saved }()
	if saved {
		t.Run("SHA-NI", f)
	} else {
		t.Logf("no SHA-NI on this machine or build: only the portable path is checked")
	}
	useSHANI = false
	t.Run("generic", f)
}

func TestBlocksMatchesSHA256(t *testing.T) {
	t.Logf("block function: %s", Implementation())
	r := rand.New(rand.NewPCG(1, 2))
	implementations(t, func(t *testing.T) {
		for n := 0; n <= 600; n++ {
			msg := make([]byte, n)
			for i := range msg {
				msg[i] = byte(r.Uint32())
			}
			if got, want := sum(msg), sha256.Sum256(msg); got != want {
				t.Fatalf("%d bytes: got %x, want %x", n, got, want)
			}
		}
	})
}

func TestBlocks2MatchesSHA256(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	implementations(t, func(t *testing.T) {
		for n := 0; n <= 600; n += 1 + n/16 {
			// Two messages of one padded length but different contents and,
			// where the padding allows, different lengths.
			a := make([]byte, n)
			m := max(((n+9+63)&^63)-9-r.IntN(20), 0)
			if (m+9+63)&^63 != (n+9+63)&^63 {
				m = n
			}
			b := make([]byte, m)
			for i := range a {
				a[i] = byte(r.Uint32())
			}
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			s1, s2 := IV, IV
			Blocks2(&s1, &s2, pad(a), pad(b))
			if got, want := s1.Digest(), sha256.Sum256(a); got != want {
				t.Fatalf("first of %d and %d bytes: got %x, want %x", n, m, got, want)
			}
			if got, want := s2.Digest(), sha256.Sum256(b); got != want {
				t.Fatalf("second of %d and %d bytes: got %x, want %x", n, m, got, want)
			}
		}
	})
}

// TestBlocks2IsTwoStreams checks that the two states never mix: the same
// message into two different states gives each state's own result.
func TestBlocks2IsTwoStreams(t *testing.T) {
	implementations(t, func(t *testing.T) {
		p := pad([]byte("kosh"))
		var prefix [64]byte
		prefix[0] = 1
		s1, s2 := IV, IV
		Blocks(&s2, prefix[:])
		w1, w2 := s1, s2
		Blocks(&w1, p)
		Blocks(&w2, p)
		Blocks2(&s1, &s2, p, p)
		if s1 != w1 || s2 != w2 {
			t.Fatalf("Blocks2 gave %x and %x, want %x and %x", s1, s2, w1, w2)
		}
	})
}

func TestRejectsPartialBlocks(t *testing.T) {
	for _, f := range []func(){
		func() { s := IV; Blocks(&s, make([]byte, 63)) },
		func() { s, u := IV, IV; Blocks2(&s, &u, make([]byte, 64), make([]byte, 128)) },
		func() { s, u := IV, IV; Blocks2(&s, &u, make([]byte, 65), make([]byte, 65)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("a partial or uneven block was accepted")
				}
			}()
			f()
		}()
	}
}

func FuzzBlocks2(f *testing.F) {
	f.Add([]byte("a"), []byte("b"))
	f.Add(make([]byte, 55), make([]byte, 56))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		pa, pb := pad(a), pad(b)
		if len(pa) != len(pb) {
			if got, want := sum(a), sha256.Sum256(a); got != want {
				t.Fatalf("Blocks(%x) = %x, want %x", a, got, want)
			}
			return
		}
		s1, s2 := IV, IV
		Blocks2(&s1, &s2, pa, pb)
		if s1.Digest() != sha256.Sum256(a) || s2.Digest() != sha256.Sum256(b) {
			t.Fatalf("Blocks2 of %x and %x disagrees with crypto/sha256", a, b)
		}
	})
}

// The benchmarks compare one-block hashes: crypto/sha256.Sum256 (the raw
// rate the tree benchmark reports), Blocks, and Blocks2 per block.

func BenchmarkSum256OneBlock(b *testing.B) {
	var msg [40]byte
	for b.Loop() {
		d := sha256.Sum256(msg[:])
		msg[0] ^= d[0]
	}
}

func BenchmarkBlocksOneBlock(b *testing.B) {
	p := pad(make([]byte, 40))
	for b.Loop() {
		s := IV
		Blocks(&s, p)
		p[0] ^= byte(s[0])
	}
}

func BenchmarkBlocks2PerBlock(b *testing.B) {
	p1, p2 := pad(make([]byte, 40)), pad(make([]byte, 41))
	b.ReportMetric(0, "ns/op")
	n := 0
	for b.Loop() {
		s1, s2 := IV, IV
		Blocks2(&s1, &s2, p1, p2)
		p1[0] ^= byte(s1[0])
		p2[0] ^= byte(s2[0])
		n += 2
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/block")
}
