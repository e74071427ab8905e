package main

import "testing"

// TestIsLoopback: plain http is allowed to this machine only, whatever the
// case of "localhost".
func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "LocalHost": true, "127.0.0.1": true, "127.9.9.9": true, "::1": true,
		"localhost.example": false, "10.0.0.1": false, "example.com": false, "": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
