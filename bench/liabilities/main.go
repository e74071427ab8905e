package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
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

// Targets (issue 4, for the largest account count measured).
const (
	targetBuild  = 4.0     // seconds
	targetMemory = 2 << 30 // bytes of peak RSS
	targetProof  = 1500    // bytes per proof (v2: per share set, the longest)
	targetVerify = 50.0    // µs
)

const assetCode = "SAT"

// childFlag is the hidden flag that makes the process measure one format
// at one account count and print its result as JSON.
const childFlag = "measure"

func main() {
	counts := flag.String("accounts", "1000000", "comma-separated account counts")
	formats := flag.String("formats", "1,2", "tree versions to measure, comma-separated (1, 2)")
	verifyN := flag.Int("verify", 20000, "about this many proofs to verify per measurement (picked by salt)")
	rawRef := flag.Float64("rawref", 0, "raw SHA-256 rate, in M one-block hashes/s, to normalize build times to; 0: the highest rate measured in the run")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of each measurement to this path suffixed .v<version>.<accounts>")
	measure := flag.String(childFlag, "", "")
	flag.Usage = func() {
		out := flag.CommandLine.Output()
		fmt.Fprintf(out, "Usage of %s:\n", os.Args[0])
		flag.VisitAll(func(f *flag.Flag) {
			if f.Name != childFlag {
				fmt.Fprintf(out, "  -%s\n    \t%s (default %q)\n", f.Name, f.Usage, f.DefValue)
			}
		})
	}
	flag.Parse()
	var err error
	if *measure != "" {
		err = child(*measure, *counts, *verifyN, *cpuProfile)
	} else {
		err = parent(*counts, *formats, *verifyN, *rawRef*1e6, *cpuProfile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// result is one measurement, passed from the child as JSON.
type result struct {
	Version  int
	Accounts int
	Height   int
	RawPre   float64 // one-block SHA-256 hashes/s, measured just before the build
	RawPost  float64 // the same, just after it
	Build    float64 // seconds
	Proofs   float64 // seconds, every proof in binary on every core
	PeakHeap uint64
	PeakRSS  uint64
	ProofAvg float64 // bytes
	ProofMax int
	Verify   float64 // µs, mean
	Comp     float64 // SHA-256 compressions of the build
}

func (r *result) treeRate() float64 { return r.Comp / r.Build }

// raw is the raw rate the build is compared with: the mean of the rates
// just before and just after it.
func (r *result) raw() float64 { return (r.RawPre + r.RawPost) / 2 }

// parent measures each format at each count in a child process of its own,
// so that one measurement's peak RSS and heap do not carry into the next.
func parent(counts, formats string, verifyN int, rawRef float64, cpuProfile string) error {
	var ns, vs []int
	for _, f := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("bad account count %q", f)
		}
		ns = append(ns, n)
	}
	for _, f := range strings.Split(formats, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || (v != 1 && v != 2) {
			return fmt.Errorf("bad tree version %q: 1 or 2", f)
		}
		vs = append(vs, v)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to run each measurement: %w", err)
	}
	workers := runtime.GOMAXPROCS(0)
	fmt.Printf("GOMAXPROCS %d, %s, SHA-256 blocks: %s, %s\n", workers, runtime.Version(), sumtree.BlockFunction(), loadAvg())
	raw := shaRate(workers, time.Second)
	fmt.Printf("raw SHA-256: %.2f M one-block hashes/s on %d cores (each measurement measures it again just before and after its build: raw M/s)\n\n", raw/1e6, workers)
	fmt.Printf("%10s %4s %6s %8s %8s %10s %10s %15s %9s %11s %11s %6s\n",
		"accounts", "tree", "height", "build s", "proofs s", "peak heap", "peak RSS", "proof B avg/max", "verify µs", "raw M/s b/a", "tree Mcmp/s", "ratio")
	best := raw
	var last []result
	for _, n := range ns {
		last = last[:0]
		for _, v := range vs {
			args := []string{"-" + childFlag, strconv.Itoa(v), "-accounts", strconv.Itoa(n), "-verify", strconv.Itoa(verifyN)}
			if cpuProfile != "" {
				args = append(args, "-cpuprofile", fmt.Sprintf("%s.v%d.%d", cpuProfile, v, n))
			}
			cmd := exec.Command(self, args...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("measure version %d at %d accounts: %w", v, n, err)
			}
			var r result
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				return fmt.Errorf("read the measurement of version %d at %d accounts: %w", v, n, err)
			}
			best = max(best, r.RawPre, r.RawPost)
			fmt.Printf("%10d %4s %6d %8.2f %8.2f %9.0fM %9.0fM %15s %9.1f %11s %11.2f %5.0f%%\n",
				n, fmt.Sprintf("v%d", v), r.Height, r.Build, r.Proofs, mib(r.PeakHeap), mib(r.PeakRSS),
				fmt.Sprintf("%.0f/%d", r.ProofAvg, r.ProofMax), r.Verify,
				fmt.Sprintf("%.2f/%.2f", r.RawPre/1e6, r.RawPost/1e6), r.treeRate()/1e6, 100*r.treeRate()/r.raw())
			last = append(last, r)
		}
	}
	refFrom := "-rawref"
	if rawRef <= 0 {
		rawRef, refFrom = best, "the highest measured in this run"
	}
	fmt.Printf("\ntargets at %d accounts: build ≤ %.0f s, peak RSS ≤ %.0f GiB, proof ≤ %d B, verify ≤ %.0f µs;\n",
		ns[len(ns)-1], targetBuild, float64(targetMemory)/(1<<30), targetProof, targetVerify)
	fmt.Printf("build at ref: the build's compressions at a raw rate of %.2f M/s (%s) and the measured ratio\n",
		rawRef/1e6, refFrom)
	for _, r := range last {
		norm := r.Comp / (r.treeRate() / r.raw() * rawRef)
		fmt.Printf("  v%d: build %.2f s %s (%.2f s at ref %s), RSS %.2f GiB %s, proof %d B %s, verify %.1f µs %s\n",
			r.Version, r.Build, pass(r.Build <= targetBuild), norm, pass(norm <= targetBuild),
			float64(r.PeakRSS)/(1<<30), pass(r.PeakRSS <= targetMemory),
			r.ProofMax, pass(r.ProofMax <= targetProof), r.Verify, pass(r.Verify <= targetVerify))
	}
	fmt.Printf("load after: %s\n", loadAvg())
	return nil
}

func pass(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// loadAvg returns the 1, 5 and 15 minute load averages, or "" where the
// system does not say.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return "load average " + strings.Join(f[:3], " ")
}

// child measures one tree version at one account count and prints the
// result as JSON.
func child(version, counts string, verifyN int, cpuProfile string) error {
	n, err := strconv.Atoi(counts)
	if err != nil || n < 1 {
		return fmt.Errorf("bad account count %q", counts)
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go peakHeap(stop, &peak, &wg)

	workers := runtime.GOMAXPROCS(0)
	r := result{Accounts: n, RawPre: shaRate(workers, time.Second)}
	var seed [32]byte
	seed[0] = 7
	switch version {
	case "1":
		r.Version = 1
		err = measure1(&r, n, workers, verifyN, seed)
	case "2":
		r.Version = 2
		err = measure2(&r, n, workers, verifyN, seed)
	default:
		err = fmt.Errorf("bad tree version %q", version)
	}
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return fmt.Errorf("getrusage: %w", err)
	}
	r.PeakRSS = uint64(ru.Maxrss) * 1024 // Linux: KiB
	r.PeakHeap = peak
	return json.NewEncoder(os.Stdout).Encode(&r)
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

// idLen is the length of the ids, "acct-" and 10 digits.
const idLen = 15

// makeIDs returns n ids in one backing string: id i is ids[i*idLen:][:idLen].
func makeIDs(n int) string {
	var sb strings.Builder
	sb.Grow(n * idLen)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "acct-%010d", i)
	}
	return sb.String()
}

// makeAccounts returns n version 1 accounts with random balances.
func makeAccounts(n int) []sumtree.Account {
	ids := makeIDs(n)
	r := rand.New(rand.NewPCG(1, uint64(n)))
	accts := make([]sumtree.Account, n)
	for i := range accts {
		accts[i] = sumtree.Account{ID: ids[i*idLen : (i+1)*idLen], Balance: r.Uint64N(10_000_000_000)}
	}
	return accts
}

// makeHoldings returns the same accounts as makeAccounts as version 2
// holdings, each with a journal sequence.
func makeHoldings(n int) []sumtree.Holding {
	ids := makeIDs(n)
	r := rand.New(rand.NewPCG(1, uint64(n)))
	hs := make([]sumtree.Holding, n)
	for i := range hs {
		hs[i] = sumtree.Holding{ID: ids[i*idLen : (i+1)*idLen], Balance: r.Uint64N(10_000_000_000), Seq: uint64(n) + 3*uint64(i)}
	}
	return hs
}

// sampler keeps the binary proofs and salts of the accounts whose proofs
// are verified, as the proof workers pass them: those whose salt's first 8
// bytes, a uniform number the worker holds anyway, fall below a threshold
// (a lookup per account in a table of picks would cost the proof loop
// random reads).
type sampler struct {
	below uint64
	mu    sync.Mutex
	got   []sampled
}

type sampled struct {
	i     int
	salt  sumtree.Salt
	proof []byte
}

// newSampler keeps about want of n proofs.
func newSampler(n, want int) *sampler {
	return &sampler{below: uint64(min(float64(want)/float64(n), 1) * 0x1p64 * (1 - 0x1p-52))}
}

func (s *sampler) offer(i int, salt sumtree.Salt, proof []byte) {
	if binary.BigEndian.Uint64(salt[:8]) >= s.below {
		return
	}
	s.mu.Lock()
	s.got = append(s.got, sampled{i, salt, bytes.Clone(proof)})
	s.mu.Unlock()
}

// blocks is the number of SHA-256 compressions of an n-byte message after
// a tag's 64-byte prefix (whose state is precomputed).
func blocks(n int) int { return (n + 9 + 63) / 64 }

// halvings returns the nodes above width leaves in the levels up to levels
// above them: each level holds half the one below, rounded up.
func halvings(width, levels int) int {
	total := 0
	for l := 0; l < levels; l++ {
		width = (width + 1) / 2
		total += width
	}
	return total
}

// measure1 builds the version 1 tree, makes every proof and verifies a
// sample.
func measure1(r *result, n, workers, verifyN int, seed [32]byte) error {
	accts := makeAccounts(n)
	t0 := time.Now()
	tree, err := sumtree.Build(context.Background(), assetCode, seed, accts)
	if err != nil {
		return err
	}
	r.Build = time.Since(t0).Seconds()
	r.RawPost = shaRate(workers, time.Second)
	root := tree.Root()
	r.Height = root.Height

	// Every proof, in binary, on every core, in leaf order.
	s := newSampler(n, verifyN)
	t1 := time.Now()
	var next atomic.Int64
	var perr atomic.Value
	var size atomic.Int64
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
				err := wr.EachProof(lo, min(lo+chunk, n), func(p *sumtree.Proof, salt sumtree.Salt, i int) error {
					buf, _ = p.AppendBinary(buf[:0])
					local += int64(len(buf))
					s.offer(i, salt, buf)
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
	r.Proofs = time.Since(t1).Seconds()
	if e := perr.Load(); e != nil {
		return e.(error)
	}
	r.ProofAvg = float64(size.Load()) / float64(n)
	r.ProofMax = sumtree.EncodedLen(root.Height)

	// Verify the sample (one core), from the binary form a wallet receives.
	proofs := make([]sumtree.Proof, len(s.got))
	for k, g := range s.got {
		if err := proofs[k].UnmarshalBinary(g.proof); err != nil {
			return err
		}
	}
	t2 := time.Now()
	for k, g := range s.got {
		a := accts[g.i]
		if err := sumtree.VerifyInclusion(root, a.ID, g.salt, a.Balance, &proofs[k]); err != nil {
			return fmt.Errorf("proof of account %d does not verify: %w", g.i, err)
		}
	}
	r.Verify = float64(time.Since(t2).Nanoseconds()) / 1e3 / float64(max(len(s.got), 1))

	// Compressions after the precomputed tag prefixes: per account the
	// salt (seed, asset code, id), the commitment and the leaf, and two
	// for every inner node (80 bytes).
	var comp int
	for i := range accts {
		l := len(accts[i].ID)
		comp += blocks(36+len(assetCode)+4+l) + blocks(36+l) + blocks(40)
	}
	comp += blocks(80) * halvings(n, root.Height)
	r.Comp = float64(comp)
	runtime.KeepAlive(accts)
	return nil
}

// measure2 builds the version 2 tree (default shares and window), makes
// every share-set proof and verifies a sample.
func measure2(r *result, n, workers, verifyN int, seed [32]byte) error {
	hs := makeHoldings(n)
	t0 := time.Now()
	tree, err := sumtree.Build2(context.Background(), assetCode, seed, hs)
	if err != nil {
		return err
	}
	r.Build = time.Since(t0).Seconds()
	r.RawPost = shaRate(workers, time.Second)
	root := tree.Root()
	r.Height = root.Height

	// Every share-set proof, in binary, on every core, window by window.
	s := newSampler(n, verifyN)
	t1 := time.Now()
	windows := tree.Windows()
	var next atomic.Int64
	var perr atomic.Value
	var size, longest atomic.Int64
	var pw sync.WaitGroup
	const chunk = 8 // windows
	for w := 0; w < workers; w++ {
		pw.Add(1)
		go func() {
			defer pw.Done()
			var buf []byte
			var local, most int64
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= windows {
					break
				}
				err := tree.EachProofIn(lo, min(lo+chunk, windows), func(p *sumtree.ShareProof, salt sumtree.Salt, i int) error {
					buf, _ = p.AppendBinary(buf[:0])
					local += int64(len(buf))
					most = max(most, int64(len(buf)))
					s.offer(i, salt, buf)
					return nil
				})
				if err != nil {
					perr.Store(err)
					return
				}
			}
			size.Add(local)
			for {
				m := longest.Load()
				if most <= m || longest.CompareAndSwap(m, most) {
					break
				}
			}
		}()
	}
	pw.Wait()
	r.Proofs = time.Since(t1).Seconds()
	if e := perr.Load(); e != nil {
		return e.(error)
	}
	r.ProofAvg = float64(size.Load()) / float64(n)
	r.ProofMax = int(longest.Load())

	proofs := make([]sumtree.ShareProof, len(s.got))
	for k, g := range s.got {
		if err := proofs[k].UnmarshalBinary(g.proof); err != nil {
			return err
		}
	}
	t2 := time.Now()
	for k, g := range s.got {
		h := hs[g.i]
		if err := sumtree.VerifyShares(root, assetCode, h.ID, h.Seq, g.salt, h.Balance, &proofs[k]); err != nil {
			return fmt.Errorf("proof of account %d does not verify: %w", g.i, err)
		}
	}
	r.Verify = float64(time.Since(t2).Nanoseconds()) / 1e3 / float64(max(len(s.got), 1))

	// Compressions after the precomputed tag prefixes: per account the
	// salt, the commitment (tree id, salt, asset code, sequence, id), the
	// split (when k > 1) and k leaves (42 bytes); two for every inner node
	// (80 bytes), within the windows and above them. Pads and the
	// per-window shuffle keys (one per 2^w/k accounts) are left out.
	k, w := root.Shares, root.Window
	var comp int
	for i := range hs {
		l := len(hs[i].ID)
		comp += blocks(36+len(assetCode)+4+l) + blocks(64+4+len(assetCode)+8+4+l) + k*blocks(42)
		if k > 1 {
			comp += blocks(32)
		}
	}
	per := (1 << w) / k
	full := n / per
	comp += blocks(80) * full * halvings(per*k, w)
	if rest := n - full*per; rest > 0 {
		comp += blocks(80) * halvings(rest*k, w)
	}
	comp += blocks(80) * halvings(windows, root.Height-w)
	r.Comp = float64(comp)
	runtime.KeepAlive(hs)
	return nil
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
