package reservedb

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestLiveMirror checks the followers' view of the reserves: a monitor fed
// only from the leader's live picture in the database backs mints while
// the leader's source is fresh, carries its figures, and goes stale — so
// refuses mints — once the leader stops writing for longer than the
// source's max age, as the leader's own monitor would.
func TestLiveMirror(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, store.Postgres)
	st := New(db)
	const maxAge = 600 * time.Millisecond
	leaderMon, follower := reserve.NewMonitor(), reserve.NewMonitor()
	leaderMon.Register("ext", maxAge)
	follower.Register("ext", maxAge)
	if err := leaderMon.Report("ext", 5000); err != nil {
		t.Fatal(err)
	}
	if err := st.PublishLive(ctx, 7, leaderMon.LiveSources()); err != nil {
		t.Fatal(err)
	}
	l, err := st.ReadLive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l.Token != 7 || len(l.Sources) != 1 || l.Sources[0].Counted != 5000 {
		t.Fatalf("read back %+v", l)
	}
	if unknown := follower.Adopt(l); len(unknown) != 0 {
		t.Fatalf("unknown sources %v", unknown)
	}
	if got, err := follower.Counted(); err != nil || got != 5000 {
		t.Fatalf("follower counts %d, %v; want 5000 and usable", got, err)
	}
	// The leader stops writing: the follower's figure ages by the
	// database's clock and goes stale after the max age.
	time.Sleep(maxAge + 200*time.Millisecond)
	l, err = st.ReadLive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	follower.Adopt(l)
	if _, err := follower.Counted(); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("follower after the leader went silent: %v, want stale", err)
	}
	// The leader writes again with a fresh report: usable again.
	if err := leaderMon.Report("ext", 6000); err != nil {
		t.Fatal(err)
	}
	if err := st.PublishLive(ctx, 7, leaderMon.LiveSources()); err != nil {
		t.Fatal(err)
	}
	if l, err = st.ReadLive(ctx); err != nil {
		t.Fatal(err)
	}
	follower.Adopt(l)
	if got, err := follower.Counted(); err != nil || got != 6000 {
		t.Fatalf("follower counts %d, %v; want 6000 and usable", got, err)
	}
	// A source the follower does not have is named, not adopted.
	other := reserve.NewMonitor()
	if unknown := other.Adopt(l); len(unknown) != 1 || unknown[0] != "ext" {
		t.Fatalf("unknown = %v", unknown)
	}
}

// TestLiveDetails checks the details row on PostgreSQL: nothing before the
// first write, then each write counted, and the text returned only to a
// reader whose version is behind.
func TestLiveDetails(t *testing.T) {
	ctx := context.Background()
	st := New(storetest.Open(t, store.Postgres))
	v, b, err := st.ReadDetails(ctx, -1)
	if err != nil || v != 0 || b != nil {
		t.Fatalf("before any write: version %d, %q, %v", v, b, err)
	}
	for i, want := range []string{`{"chain":{"Height":1}}`, `{"chain":{"Height":2}}`} {
		if err := st.PublishDetails(ctx, []byte(want)); err != nil {
			t.Fatal(err)
		}
		v, b, err = st.ReadDetails(ctx, int64(i))
		if err != nil || v != int64(i+1) || string(b) != want {
			t.Fatalf("after write %d: version %d, %q, %v", i+1, v, b, err)
		}
		if v, b, err = st.ReadDetails(ctx, v); err != nil || b != nil {
			t.Fatalf("a reader at the current version %d got %q, %v", v, b, err)
		}
	}
}
