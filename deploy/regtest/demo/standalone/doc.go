// Package standalone lets a program that is not a test use the itest
// harness, whose methods take a testing.TB.
//
// TB logs through log/slog, makes temporary directories under one
// directory, runs clean-ups last first, and turns Fatal, Fatalf and FailNow
// into a panic with a FatalError that the caller recovers and returns as an
// error. The regtest demo's supervisor uses it to start btcd and lnd with
// itest/harness outside go test.
package standalone
