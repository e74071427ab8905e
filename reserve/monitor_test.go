package reserve

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
)

func check(code string, after, bps int64, others ...ledger.AssetSupply) ledger.MintCheck {
	c := ledger.MintCheck{Asset: ledger.Asset{Code: code, MinCoverageBps: bps, Peg: ledger.PegSat}, SupplyAfter: after}
	c.Outstanding = append([]ledger.AssetSupply{{Code: code, Supply: after, MinCoverageBps: bps, Peg: ledger.PegSat}}, others...)
	return c
}

func TestAllowMint(t *testing.T) {
	ctx := context.Background()
	clock := time.Unix(1_700_000_000, 0)
	newMon := func(reserves int64) *Monitor {
		m := NewMonitor()
		m.now = func() time.Time { return clock }
		m.RegisterKind("chain", KindChain, time.Minute)
		if err := m.Report("chain", reserves); err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		name     string
		reserves int64
		check    ledger.MintCheck
		wantErr  string
	}{
		{"exactly covered at 1.00", 1000, check("KSH", 1000, 10000), ""},
		{"one over at 1.00", 1000, check("KSH", 1001, 10000), "needs 1001 sats"},
		{"exactly covered at 1.50", 1500, check("INR", 1000, 15000), ""},
		{"one over at 1.50", 1500, check("INR", 1001, 15000), "needs 1502 sats"},
		{"shared by two assets", 1000, check("KSH", 600, 10000, ledger.AssetSupply{Code: "ALT", Supply: 400, MinCoverageBps: 10000, Peg: ledger.PegSat}), ""},
		{"shared, over", 1000, check("KSH", 601, 10000, ledger.AssetSupply{Code: "ALT", Supply: 400, MinCoverageBps: 10000, Peg: ledger.PegSat}), "needs 1001 sats"},
		{"huge supply does not overflow", 1 << 62, check("KSH", 1<<62, 1_000_000), "sats of counted reserves"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := newMon(tc.reserves).AllowMint(ctx, tc.check)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestFailClosed(t *testing.T) {
	ctx := context.Background()
	m := NewMonitor()
	if err := m.AllowMint(ctx, check("KSH", 1, 10000)); !errors.Is(err, ErrNoSource) {
		t.Fatalf("no source: err = %v", err)
	}
	clock := time.Unix(1_700_000_000, 0)
	m.now = func() time.Time { return clock }
	m.RegisterKind("alice", KindLightning, 30*time.Second)
	m.RegisterKind("chain", KindChain, 30*time.Second)
	if err := m.Report("chain", 10); err != nil {
		t.Fatal(err)
	}
	err := m.AllowMint(ctx, check("KSH", 1, 10000))
	if err == nil || !strings.Contains(err.Error(), "alice has not reported") {
		t.Fatalf("silent source: err = %v", err)
	}
	if err := m.Report("alice", 5); err != nil {
		t.Fatal(err)
	}
	if err := m.AllowMint(ctx, check("KSH", 15, 10000)); err != nil {
		t.Fatalf("both fresh: %v", err)
	}
	clock = clock.Add(20 * time.Second)
	if err := m.Report("chain", 10); err != nil {
		t.Fatal(err)
	}
	m.Fail("alice", errors.New("connection refused"))
	clock = clock.Add(11 * time.Second)
	err = m.AllowMint(ctx, check("KSH", 1, 10000))
	if err == nil || !strings.Contains(err.Error(), "alice last reported 31s ago") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("stale source: err = %v", err)
	}
	snap := m.Snapshot()
	if snap.Usable() || !snap.Stale() || snap.Counted != 15 {
		t.Fatalf("snapshot = %+v", snap)
	}
}

func TestUpdateValidation(t *testing.T) {
	m := NewMonitor()
	m.RegisterKind("chain", KindChain, time.Minute)
	bad := []SourceStatus{
		{Counted: -1},
		{Counted: 5, Classes: []Class{{Name: "confirmed", Amount: 4, Counted: true}}},
		{Counted: 0, Classes: []Class{{Name: "pending", Amount: -3}}},
	}
	for i, r := range bad {
		if err := m.Update("chain", r); err == nil {
			t.Errorf("case %d accepted: %+v", i, r)
		}
	}
	if err := m.Update("nope", SourceStatus{}); err == nil {
		t.Error("unregistered source accepted")
	}
	ok := SourceStatus{Counted: 7, Classes: []Class{{"confirmed", 7, true}, {"unconfirmed", 3, false}}, Height: 5, Hash: "ab"}
	if err := m.Update("chain", ok); err != nil {
		t.Fatal(err)
	}
	if s := m.Snapshot(); s.Counted != 7 || s.Sources[0].Height != 5 {
		t.Fatalf("snapshot = %+v", s)
	}
}

// TestLogChanges proves a source going stale mid-run is logged as a
// warning once, its recovery as info once, and a source that has not
// reported yet is not called stale.
func TestLogChanges(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	m := NewMonitor()
	m.now = func() time.Time { return clock }
	m.RegisterKind("chain", KindChain, time.Minute)
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	state := map[string]Freshness{}
	step := func(want ...string) {
		t.Helper()
		buf.Reset()
		m.LogChanges(log, state)
		got := buf.String()
		if len(want) == 0 && got != "" {
			t.Errorf("logged %q, want nothing", got)
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("logged %q, want %q", got, w)
			}
		}
	}
	step() // registered, never reported: not "stale"
	clock = clock.Add(2 * time.Minute)
	step()
	if err := m.Report("chain", 5); err != nil {
		t.Fatal(err)
	}
	step("level=INFO", "reserve source reporting", "source=chain")
	step()
	clock = clock.Add(61 * time.Second)
	m.Fail("chain", errors.New("connection refused"))
	step("level=WARN", "reserve source is stale", "source=chain", "connection refused")
	step()
	if err := m.Report("chain", 5); err != nil {
		t.Fatal(err)
	}
	step("level=INFO", "reserve source recovered")
	step()
}
