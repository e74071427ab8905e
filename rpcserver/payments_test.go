package rpcserver

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/kosh-reserve/kosh/payments"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestPaymentStatus: a policy limit and a macaroon the payments lnd
// refuses are refusals that retrying does not fix (FAILED_PRECONDITION,
// HTTP 400), not "retry later" (RESOURCE_EXHAUSTED 429, UNAVAILABLE 503);
// an lnd that does not answer stays UNAVAILABLE. The message passes
// through unchanged.
func TestPaymentStatus(t *testing.T) {
	s := New(Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, c := range []struct {
		err  error
		code codes.Code
		http int
	}{
		{fmt.Errorf("%w: a deposit of 9 sats is above the maximum of 5; ask for 5 sats or less", payments.ErrLimit), codes.FailedPrecondition, http.StatusBadRequest},
		{fmt.Errorf("%w: deposits of KSH by this account in the last 24 hours total 9", payments.ErrLimit), codes.FailedPrecondition, http.StatusBadRequest},
		{fmt.Errorf("%w: 100 deposit addresses are unused", payments.ErrLimit), codes.FailedPrecondition, http.StatusBadRequest},
		{fmt.Errorf("%w: the payments lnd macaroon lacks invoices:write", payments.ErrMisconfigured), codes.FailedPrecondition, http.StatusBadRequest},
		{fmt.Errorf("%w: payments lnd: GetInfo: connection refused", payments.ErrUnavailable), codes.Unavailable, http.StatusServiceUnavailable},
	} {
		st := status.Convert(s.paymentStatus(c.err))
		if st.Code() != c.code || st.Message() != c.err.Error() || runtime.HTTPStatusFromCode(st.Code()) != c.http {
			t.Errorf("%q: %v %q (HTTP %d), want %v (HTTP %d) with the message unchanged", c.err, st.Code(), st.Message(),
				runtime.HTTPStatusFromCode(st.Code()), c.code, c.http)
		}
	}
}

// TestExpirySecondsDocumented: the API description of CreateDeposit's
// expiry_seconds says what 0 does — koshd's --payments.invoiceexpiry, which
// is what CreateDeposit passes it on to (payments.TestDepositDefaultExpiry) —
// rather than a fixed 3600.
func TestExpirySecondsDocumented(t *testing.T) {
	b, err := os.ReadFile("../api/kosh.swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var descs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if m, ok := x.(map[string]any); ok && k == "expiry_seconds" {
					d, _ := m["description"].(string)
					descs = append(descs, d)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if len(descs) == 0 {
		t.Fatal("expiry_seconds is not in the OpenAPI document")
	}
	for _, d := range descs {
		if !strings.Contains(d, "--payments.invoiceexpiry") || strings.Contains(d, "0: 3600") {
			t.Errorf("expiry_seconds is described as %q: want 0 to name --payments.invoiceexpiry", d)
		}
	}
}
