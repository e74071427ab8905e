package reserve_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/reservedb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestRecorder stores a snapshot when it changes and on the heartbeat,
// never twice for the same picture, on both stores.
func TestRecorder(t *testing.T) {
	for _, backend := range []store.Backend{store.SQLite, store.Postgres} {
		t.Run(string(backend), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Open(t, backend)
			clock := time.UnixMilli(1_700_000_000_000)
			m := reserve.NewMonitor()
			reserve.SetMonitorClock(m, func() time.Time { return clock })
			snaps := reservedb.New(db)
			r := reserve.NewRecorder(snaps, m, reserve.RecorderConfig{Heartbeat: time.Hour})

			record := func(want bool) {
				t.Helper()
				got, err := r.RecordOnce(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("RecordOnce stored = %v, want %v", got, want)
				}
			}
			record(false) // no source: nothing to record

			m.RegisterKind("chain", reserve.KindChain, time.Minute)
			if err := m.Update("chain", reserve.SourceStatus{Counted: 1500, Height: 101, Hash: "aa",
				Classes: []reserve.Class{{Name: "onchain_confirmed", Amount: 1500, Counted: true}}}); err != nil {
				t.Fatal(err)
			}
			record(true)
			clock = clock.Add(time.Second)
			if err := m.Update("chain", reserve.SourceStatus{Counted: 1500, Height: 101, Hash: "aa",
				Classes: []reserve.Class{{Name: "onchain_confirmed", Amount: 1500, Counted: true}}}); err != nil {
				t.Fatal(err)
			}
			record(false) // same picture, only a newer report time
			if err := m.Update("chain", reserve.SourceStatus{Counted: 2500, Height: 102, Hash: "bb",
				Classes: []reserve.Class{{Name: "onchain_confirmed", Amount: 2500, Counted: true}}}); err != nil {
				t.Fatal(err)
			}
			record(true)
			clock = clock.Add(2 * time.Minute) // past max age: stale
			record(true)
			record(false)
			clock = clock.Add(time.Hour) // heartbeat
			record(true)

			rows, err := snaps.ReserveSnapshots(ctx, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 4 {
				t.Fatalf("%d rows stored, want 4", len(rows))
			}
			if r0 := rows[0]; r0.Height != 101 || r0.BlockHash != "aa" || r0.Counted != 1500 || !r0.Usable || r0.Stale {
				t.Fatalf("first row %+v", r0)
			}
			if r1 := rows[1]; r1.Height != 102 || r1.Counted != 2500 || !r1.Usable {
				t.Fatalf("second row %+v", r1)
			}
			if r2 := rows[2]; !r2.Stale || r2.Usable || r2.Problem == "" {
				t.Fatalf("stale row %+v", r2)
			}
			var srcs []reserve.StoredSourceJSON
			if err := json.Unmarshal([]byte(rows[1].Sources), &srcs); err != nil {
				t.Fatal(err)
			}
			if len(srcs) != 1 || srcs[0].Name != "chain" || srcs[0].Counted != 2500 || srcs[0].LastSeen == 0 ||
				len(srcs[0].Classes) != 1 || srcs[0].Classes[0].Amount != 2500 {
				t.Fatalf("stored sources %s", rows[1].Sources)
			}
			if latest, err := snaps.LatestReserveSnapshot(ctx); err != nil || latest.ID != rows[3].ID {
				t.Fatalf("latest %+v %v, want id %d", latest, err, rows[3].ID)
			}
		})
	}
}
