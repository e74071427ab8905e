package daemon

import "time"

// SetPrivateFilesInterval sets how often a running koshd re-checks its
// private files' permissions, and returns a function that restores it.
func SetPrivateFilesInterval(d time.Duration) (restore func()) {
	old := privateFilesInterval
	privateFilesInterval = d
	return func() { privateFilesInterval = old }
}
