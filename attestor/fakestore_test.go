package attestor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/ledger"
)

// fakeStore is an in-memory Store: the interface is narrow enough that the
// Service's reading paths can be tested without a database.
type fakeStore struct {
	published []Published // oldest first
	balances  map[int64][]AttestedBalance
	prices    map[int64][]AttestedPrice
	lastLimit int
	err       error // returned by every call when set
}

var _ Store = (*fakeStore)(nil)

func (f *fakeStore) InsertAttestation(ctx context.Context, p Published, b []AttestedBalance, prices []AttestedPrice) error {
	if f.err != nil {
		return f.err
	}
	if n := len(f.published); n > 0 && f.published[n-1].Seq+1 != p.Seq {
		return fmt.Errorf("attestation %d does not follow %d", p.Seq, f.published[n-1].Seq)
	}
	f.published = append(f.published, p)
	if f.balances == nil {
		f.balances = map[int64][]AttestedBalance{}
	}
	f.balances[p.Seq] = b
	return f.InsertAttestedPrices(ctx, p.Seq, prices)
}

func (f *fakeStore) InsertAttestedPrices(_ context.Context, seq int64, prices []AttestedPrice) error {
	if f.err != nil {
		return f.err
	}
	if f.prices == nil {
		f.prices = map[int64][]AttestedPrice{}
	}
	if len(f.prices[seq]) > 0 {
		return fmt.Errorf("attestation %d already has prices", seq)
	}
	f.prices[seq] = prices
	return nil
}

func (f *fakeStore) AttestedPrices(_ context.Context, seq int64) ([]AttestedPrice, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.prices[seq], nil
}

func (f *fakeStore) LatestAttestation(context.Context) (Published, error) {
	if f.err != nil {
		return Published{}, f.err
	}
	if len(f.published) == 0 {
		return Published{}, fmt.Errorf("latest attestation: %w", ErrNotStored)
	}
	return f.published[len(f.published)-1], nil
}

func (f *fakeStore) AttestationByID(_ context.Context, id string) (Published, error) {
	if f.err != nil {
		return Published{}, f.err
	}
	for _, p := range f.published {
		if p.ID == id {
			return p, nil
		}
	}
	return Published{}, fmt.Errorf("attestation %s: %w", id, ErrNotStored)
}

func (f *fakeStore) Attestations(_ context.Context, before int64, limit int) ([]Published, error) {
	f.lastLimit = limit
	if f.err != nil {
		return nil, f.err
	}
	var out []Published
	for i := len(f.published) - 1; i >= 0 && len(out) < limit; i-- {
		if p := f.published[i]; before <= 0 || p.Seq < before {
			p.Document, p.Seed = "", nil
			out = append(out, p)
		}
	}
	return out, nil
}

func (f *fakeStore) AttestedBalances(_ context.Context, seq int64, asset string) ([]AttestedBalance, error) {
	var out []AttestedBalance
	for _, b := range f.balances[seq] {
		if b.Asset == asset {
			out = append(out, b)
		}
	}
	return out, f.err
}

func (f *fakeStore) Corrupt() error { return nil }

func hexID(b byte) string { return strings.Repeat(fmt.Sprintf("%02x", b), 32) }

// TestServiceOnFakeStore runs the Service's lookups on a fake Store: "none
// stored" becomes the API's NotFound, malformed ids are refused before the
// store is asked, list limits are clamped, and other store failures pass
// through as they are.
func TestServiceOnFakeStore(t *testing.T) {
	ctx := context.Background()
	fs := &fakeStore{}
	svc := New(Config{DB: fs})

	if _, err := svc.Latest(ctx); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("latest of none: %v, want NotFound", err)
	}
	if _, err := svc.ByID(ctx, "latest"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf(`ByID("latest") of none: %v, want NotFound`, err)
	}
	if _, err := svc.ByID(ctx, "ABC"); !errors.Is(err, ledger.ErrInvalidArgument) {
		t.Errorf("malformed id: %v, want InvalidArgument", err)
	}
	if _, err := svc.ByID(ctx, hexID(9)); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("unknown id: %v, want NotFound", err)
	}

	for seq := int64(1); seq <= 3; seq++ {
		p := Published{Seq: seq, ID: hexID(byte(seq)), Document: "{}", Seed: []byte{1}}
		if seq > 1 {
			p.PrevID = hexID(byte(seq - 1))
		}
		if err := fs.InsertAttestation(ctx, p, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := svc.Latest(ctx); err != nil || p.Seq != 3 {
		t.Errorf("latest: %+v, %v", p, err)
	}
	if p, err := svc.ByID(ctx, hexID(2)); err != nil || p.Seq != 2 || p.PrevID != hexID(1) {
		t.Errorf("ByID: %+v, %v", p, err)
	}
	for _, c := range []struct{ ask, want int }{{0, 50}, {-1, 50}, {7, 7}, {10_000, 500}} {
		list, err := svc.List(ctx, 0, c.ask)
		if err != nil || fs.lastLimit != c.want || len(list) != 3 || list[0].Seq != 3 {
			t.Errorf("List(limit %d): %d rows, store asked for %d (want %d), %v", c.ask, len(list), fs.lastLimit, c.want, err)
		}
	}
	if list, _ := svc.List(ctx, 3, 10); len(list) != 2 || list[0].Seq != 2 {
		t.Errorf("List(before 3): %+v", list)
	}

	broken := errors.New("disk on fire")
	fs.err = broken
	if _, err := svc.Latest(ctx); !errors.Is(err, broken) || errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("latest on a failing store: %v, want the store's error, not NotFound", err)
	}
	if _, err := svc.Bundle(ctx, hexID(1), "KSH", "a"); !errors.Is(err, broken) {
		t.Errorf("bundle on a failing store: %v", err)
	}
}
