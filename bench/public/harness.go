package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/bench/internal/benchkosh"
)

const (
	benchAsset = "PUB"
	// callTimeout bounds one call, so a wedged server fails the run.
	callTimeout = 60 * time.Second
	// pageSources is how many loopback addresses load the page in one
	// page-cost measurement; pageRate paces them under the global limit.
	pageSources = 20
	pageRate    = 25
)

// harness is a running in-process koshd with admin gRPC clients.
type harness struct {
	*benchkosh.Kosh
	cfg      config
	accounts []string
	keys     atomic.Int64
}

// startHarness starts koshd under tmp with cfg's refusal delay and four
// admin gRPC connections.
func startHarness(ctx context.Context, cfg config, tmp string) (*harness, error) {
	dcfg := benchkosh.Config(tmp)
	dcfg.RateLimit.RefusalDelay = cfg.refusalDelay
	k, err := benchkosh.Start(ctx, dcfg, 4)
	if err != nil {
		return nil, err
	}
	return &harness{Kosh: k, cfg: cfg}, nil
}

// seed creates the asset and the accounts and mints a starting balance to
// each, one call at a time.
func (h *harness) seed(ctx context.Context) error {
	accounts, err := h.Seed(ctx, benchAsset, h.cfg.accounts, 1)
	if err != nil {
		return err
	}
	h.accounts = accounts
	return nil
}

// transfer sends one issuer Transfer of 1 unit between random accounts.
func (h *harness) transfer(ctx context.Context, rng *rand.Rand, c koshv1.IssuerServiceClient) error {
	n := len(h.accounts)
	from, to := rng.IntN(n), rng.IntN(n-1)
	if to >= from {
		to++
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := c.Transfer(ctx, &koshv1.TransferRequest{Asset: benchAsset, FromAccountId: h.accounts[from],
		ToAccountId: h.accounts[to], Amount: 1, IdempotencyKey: "bench-t-" + strconv.FormatInt(h.keys.Add(1), 10)})
	return err
}

func (h *harness) getSupply(ctx context.Context, c koshv1.IssuerServiceClient) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	s, err := c.GetSupply(ctx, &koshv1.GetSupplyRequest{Asset: benchAsset})
	if err == nil && !s.Consistent {
		err = fmt.Errorf("supply inconsistent: %v", s)
	}
	return err
}

// preload adds n transfers to the journal from 32 concurrent callers and
// returns how many failed.
func (h *harness) preload(ctx context.Context, n int) (int64, error) {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for w := range 32 {
		rng := rand.New(rand.NewPCG(uint64(w), 1))
		c := h.Client(w)
		wg.Go(func() {
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				if h.transfer(ctx, rng, c) != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return failed.Load(), ctx.Err()
}

// supplyCost times n sequential GetSupply calls.
func (h *harness) supplyCost(ctx context.Context, n int) (latencies, error) {
	var l latencies
	for range n {
		t0 := time.Now()
		if err := h.getSupply(ctx, h.Client(0)); err != nil {
			return nil, fmt.Errorf("get supply: %w", err)
		}
		l = append(l, time.Since(t0))
	}
	slices.Sort(l)
	return l, nil
}

// loopback returns the i-th address of a block of loopback addresses:
// 127.0.<block + i/250>.<1 + i%250>.
func loopback(block, i int) string {
	return fmt.Sprintf("127.0.%d.%d", block+i/250, 1+i%250)
}

// httpFrom returns an HTTPS client whose connections leave from ip.
func (h *harness) httpFrom(ip string) (*http.Client, func()) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr := &http.Transport{TLSClientConfig: h.TLS.Clone(), ForceAttemptHTTP2: true, DialContext: d.DialContext,
		MaxIdleConnsPerHost: 1}
	return &http.Client{Timeout: callTimeout, Transport: tr}, tr.CloseIdleConnections
}

// get fetches path and reads the whole body.
func (h *harness) get(ctx context.Context, c *http.Client, path string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+h.Daemon.RESTAddr()+path, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// pageCost times h.cfg.pages loads of the page from pageSources addresses
// of loopback block 2 (round selects which addresses), paced under the
// per-client and global limits, each address warmed first.
func (h *harness) pageCost(ctx context.Context, round int) (latencies, error) {
	clients := make([]*http.Client, pageSources)
	for i := range clients {
		c, done := h.httpFrom(loopback(2, round*pageSources+i))
		defer done()
		if code, err := h.get(ctx, c, "/"); err != nil || code != http.StatusOK {
			return nil, fmt.Errorf("warm-up page load: HTTP %d, %v", code, err)
		}
		clients[i] = c
	}
	tick := time.NewTicker(time.Second / pageRate)
	defer tick.Stop()
	var l latencies
	for i := range h.cfg.pages {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		t0 := time.Now()
		code, err := h.get(ctx, clients[i%len(clients)], "/")
		if err != nil || code != http.StatusOK {
			return nil, fmt.Errorf("page load %d: HTTP %d, %v", i+1, code, err)
		}
		l = append(l, time.Since(t0))
	}
	slices.Sort(l)
	return l, nil
}

// latencies are sorted call latencies.
type latencies []time.Duration

// pct is the p-th percentile (nearest rank).
func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	i := int(p/100*float64(len(l))+0.5) - 1
	return l[min(max(i, 0), len(l)-1)]
}

// window is one measured window of issuer calls.
type window struct {
	transfer, supply latencies
	errors           int64
	firstErr         error
}

// add appends another window's calls.
func (w *window) add(o window) {
	w.transfer = append(w.transfer, o.transfer...)
	w.supply = append(w.supply, o.supply...)
	w.errors += o.errors
	if w.firstErr == nil {
		w.firstErr = o.firstErr
	}
}

func (w *window) sort() {
	slices.Sort(w.transfer)
	slices.Sort(w.supply)
}

// floodStats count the flood's answers inside the measured windows.
type floodStats struct {
	window                      time.Duration
	ok, limited, other, errors  int64
	okAll, limitedAll, otherAll atomic.Int64
	errorsAll                   atomic.Int64
}

// floodPaths are what the flood asks for: the page, an attestation file,
// the public REST routes.
var floodPaths = []string{
	"/",
	"/attestations/" + strings.Repeat("5a", 32) + ".json",
	"/v1/public/reserves",
	"/v1/public/attestations/latest",
	"/v1/public/attestations",
}

// flood runs h.cfg.flood clients from loopback block 3 until ctx ends.
// connected is done once every client has had its first answer (its TLS
// handshake is behind it).
func (h *harness) flood(ctx context.Context, st *floodStats) (all, connected *sync.WaitGroup) {
	all, connected = new(sync.WaitGroup), new(sync.WaitGroup)
	connected.Add(h.cfg.flood)
	for i := range h.cfg.flood {
		c, done := h.httpFrom(loopback(3, i))
		all.Go(func() {
			defer done()
			answered := false
			defer func() {
				if !answered {
					connected.Done()
				}
			}()
			for j := i; ctx.Err() == nil; j++ {
				code, err := h.get(ctx, c, floodPaths[j%len(floodPaths)])
				if !answered {
					answered = true
					connected.Done()
				}
				switch {
				case ctx.Err() != nil:
				case err != nil:
					st.errorsAll.Add(1)
					time.Sleep(10 * time.Millisecond)
				case code == http.StatusOK:
					st.okAll.Add(1)
				case code == http.StatusTooManyRequests:
					st.limitedAll.Add(1)
				default:
					st.otherAll.Add(1)
				}
			}
		})
	}
	return all, connected
}

// issuerWindow sends Transfer and GetSupply calls, each at its rate on its
// own schedule, for the configured duration, under a flood if st is set.
func (h *harness) issuerWindow(ctx context.Context, st *floodStats) window {
	if st != nil {
		fctx, stop := context.WithCancel(ctx)
		fwg, connected := h.flood(fctx, st)
		defer func() { stop(); fwg.Wait() }()
		// Measure the flood at its pace, not its clients' TLS handshakes:
		// wait until each had an answer, then a little more.
		connected.Wait()
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
		}
		ok0, lim0, oth0, err0 := st.okAll.Load(), st.limitedAll.Load(), st.otherAll.Load(), st.errorsAll.Load()
		start := time.Now()
		defer func() {
			st.window += time.Since(start)
			st.ok, st.limited = st.ok+st.okAll.Load()-ok0, st.limited+st.limitedAll.Load()-lim0
			st.other, st.errors = st.other+st.otherAll.Load()-oth0, st.errors+st.errorsAll.Load()-err0
		}()
	}
	var (
		mu  sync.Mutex
		w   window
		wg  sync.WaitGroup
		seq atomic.Int64
	)
	record := func(l *latencies, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			w.errors++
			if w.firstErr == nil {
				w.firstErr = err
			}
			return
		}
		*l = append(*l, d)
	}
	schedule := func(rate float64, call func(c koshv1.IssuerServiceClient, rng *rand.Rand) error, into *latencies) {
		defer wg.Done()
		tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer tick.Stop()
		end := time.After(h.cfg.duration / time.Duration(h.cfg.rounds))
		for {
			select {
			case <-tick.C:
			case <-end:
				return
			case <-ctx.Done():
				return
			}
			n := seq.Add(1)
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(n), 2))
				t0 := time.Now()
				err := call(h.Client(int(n)), rng)
				record(into, time.Since(t0), err)

			})
		}
	}
	wg.Add(2)
	go schedule(h.cfg.transferRate, func(c koshv1.IssuerServiceClient, rng *rand.Rand) error {
		return h.transfer(ctx, rng, c)
	}, &w.transfer)
	go schedule(h.cfg.supplyRate, func(c koshv1.IssuerServiceClient, _ *rand.Rand) error {
		return h.getSupply(ctx, c)
	}, &w.supply)
	wg.Wait()
	return w
}

// verify checks that the supply is consistent and unchanged by transfers.
func (h *harness) verify(ctx context.Context) (bool, error) {
	s, err := h.Client(0).GetSupply(ctx, &koshv1.GetSupplyRequest{Asset: benchAsset})
	if err != nil {
		return false, fmt.Errorf("get supply: %w", err)
	}
	var errs []error
	if !s.Consistent {
		errs = append(errs, fmt.Errorf("supply inconsistent: %v", s))
	}
	if want := int64(len(h.accounts)) * benchkosh.StartBalance; s.Supply != want {
		errs = append(errs, fmt.Errorf("supply %d, want %d", s.Supply, want))
	}
	if s.Holders != int64(len(h.accounts)) {
		errs = append(errs, fmt.Errorf("%d holders, want %d", s.Holders, len(h.accounts)))
	}
	return s.Consistent, errors.Join(errs...)
}
