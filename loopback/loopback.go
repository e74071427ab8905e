// Package loopback says whether a host names this machine only: what
// koshd's listeners and plain-http price sources are held to.
package loopback

import (
	"net"
	"strings"
)

// Host reports whether host is localhost (any case) or a loopback IP
// address (127.0.0.0/8, ::1).
func Host(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
