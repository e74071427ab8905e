package reserve

import "time"

// Test hooks for the external tests of package reserve_test (which may
// import store/reservedb, itself importing reserve).

// SetMonitorClock sets the clock m reads.
func SetMonitorClock(m *Monitor, now func() time.Time) { m.now = now }

// StoredSourceJSON is a source as the recorder stores it (JSON).
type StoredSourceJSON = storedSource
