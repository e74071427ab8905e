package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kosh-reserve/kosh/proofs/sumtree"
)

func main() {
	counts := flag.String("accounts", "1000000", "comma-separated account counts")
	verifyN := flag.Int("verify", 20000, "proofs to verify per run")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*counts, *verifyN); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(counts string, verifyN int) error {
	workers := runtime.GOMAXPROCS(0)
	fmt.Printf("GOMAXPROCS %d, %s\n", workers, runtime.Version())
	raw := shaRate(workers, time.Second)
	fmt.Printf("raw SHA-256: %.2f M one-block hashes/s on %d cores\n\n", raw/1e6, workers)
	fmt.Printf("%11s %7s %9s %9s %10s %10s %8s %9s %12s %7s\n",
		"accounts", "height", "build s", "proofs s", "peak heap", "peak RSS", "proof B", "verify µs", "tree Mcmp/s", "ratio")
	for _, f := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("bad account count %q", f)
		}
		if err := one(n, workers, verifyN, raw); err != nil {
			return err
		}
	}
	return nil
}

// shaRate measures one-block (≤55-byte message) SHA-256 hashes per second
// on all cores: the hardware limit a tree of tagged hashes works against.
func shaRate(workers int, d time.Duration) float64 {
	var total atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf [40]byte
			n := int64(0)
			for time.Now().Before(stop) {
				for i := 0; i < 4096; i++ {
					buf[0]++
					s := sha256.Sum256(buf[:])
					buf[1] ^= s[0]
				}
				n += 4096
			}
			total.Add(n)
		}()
	}
	wg.Wait()
	return float64(total.Load()) / d.Seconds()
}

// makeAccounts returns n accounts whose ids share one backing string.
func makeAccounts(n int) []sumtree.Account {
	const idLen = 15 // "acct-" + 10 digits
	var sb strings.Builder
	sb.Grow(n * idLen)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "acct-%010d", i)
	}
	ids := sb.String()
	r := rand.New(rand.NewPCG(1, uint64(n)))
	accts := make([]sumtree.Account, n)
	for i := range accts {
		accts[i] = sumtree.Account{ID: ids[i*idLen : (i+1)*idLen], Balance: r.Uint64N(10_000_000_000)}
	}
	return accts
}

// peakHeap samples the heap in use (live and unswept objects, plus
// fragmentation inside spans) and goroutine stacks until stop is closed. It
// reads runtime/metrics, which, unlike runtime.ReadMemStats, does not stop
// the world, so sampling does not slow the build it measures.
func peakHeap(stop <-chan struct{}, out *uint64, done *sync.WaitGroup) {
	defer done.Done()
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		metrics.Read(samples)
		var v uint64
		for _, s := range samples {
			v += s.Value.Uint64()
		}
		if v > *out {
			*out = v
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func one(n, workers, verifyN int, raw float64) error {
	runtime.GC()
	debug.FreeOSMemory()
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go peakHeap(stop, &peak, &wg)

	accts := makeAccounts(n)
	var seed [32]byte
	seed[0] = 7
	ctx := context.Background()
	t0 := time.Now()
	tree, err := sumtree.Build(ctx, "SAT", seed, accts)
	if err != nil {
		return err
	}
	build := time.Since(t0)
	root := tree.Root()

	// Every proof, in binary, on every core, in leaf order.
	t1 := time.Now()
	var size atomic.Int64
	var next atomic.Int64
	var perr atomic.Value
	var pw sync.WaitGroup
	const chunk = 1 << 14
	for w := 0; w < workers; w++ {
		pw.Add(1)
		go func() {
			defer pw.Done()
			wr := tree.NewProofWriter()
			buf := make([]byte, 0, sumtree.EncodedLen(root.Height))
			var local int64
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					break
				}
				err := wr.EachProof(lo, min(lo+chunk, n), func(p *sumtree.Proof, _ sumtree.Salt, _ int) error {
					buf, _ = p.AppendBinary(buf[:0])
					local += int64(len(buf))
					return nil
				})
				if err != nil {
					perr.Store(err)
					return
				}
			}
			size.Add(local)
		}()
	}
	pw.Wait()
	proofs := time.Since(t1)
	if e := perr.Load(); e != nil {
		return e.(error)
	}

	// Verify a sample (one core), from the binary form a wallet receives.
	r := rand.New(rand.NewPCG(2, 3))
	type sample struct {
		i    int
		salt sumtree.Salt
		p    sumtree.Proof
	}
	samples := make([]sample, min(verifyN, n))
	for k := range samples {
		i := r.IntN(n)
		p, salt, err := tree.ProofAt(i)
		if err != nil {
			return err
		}
		b, _ := p.MarshalBinary()
		var q sumtree.Proof
		if err := q.UnmarshalBinary(b); err != nil {
			return err
		}
		samples[k] = sample{i, salt, q}
	}
	t2 := time.Now()
	for _, s := range samples {
		a := accts[s.i]
		if err := sumtree.VerifyInclusion(root, a.ID, s.salt, a.Balance, &s.p); err != nil {
			return fmt.Errorf("proof %d does not verify: %w", s.i, err)
		}
	}
	verify := time.Since(t2) / time.Duration(len(samples))
	close(stop)
	wg.Wait()

	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	rss := uint64(ru.Maxrss) * 1024 // Linux: KiB

	// SHA-256 compressions of the build, after the precomputed tag prefix:
	// the salt two (seed, asset code, id: 58+ bytes), the commitment one
	// (51 bytes for these ids), the leaf one (40 bytes), every inner node
	// two (80 bytes).
	inner := 0
	for w := n; w > 1; w = (w + 1) / 2 {
		inner += (w + 1) / 2
	}
	inner += root.Height - bitsLen(n) // single nodes above the top
	comp := float64(4*n + 2*inner)
	fmt.Printf("%11d %7d %9.2f %9.2f %9.0fM %9.0fM %8d %9.1f %12.1f %6.0f%%\n",
		n, root.Height, build.Seconds(), proofs.Seconds(), float64(peak)/(1<<20), float64(rss)/(1<<20),
		size.Load()/int64(n), float64(verify.Nanoseconds())/1e3, comp/build.Seconds()/1e6, 100*comp/build.Seconds()/raw)
	runtime.KeepAlive(accts)
	return nil
}

func bitsLen(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	return l
}
