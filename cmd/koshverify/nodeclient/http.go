package nodeclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/btcsuite/btcd/btcjson"
)

// maxAnswer bounds an HTTP answer: a block of 4 MB is 8 MB of hex.
const maxAnswer = 64 << 20

// idleTimeout is how long an idle connection is kept for the next call;
// below bitcoind's -rpcservertimeout (30 s by default), after which
// bitcoind closes it.
const idleTimeout = 15 * time.Second

// httpTransport is JSON-RPC over HTTP POST, as bitcoind serves it, on
// connections kept alive between calls. rpcclient's POST mode marks every
// request "Connection: close", so each of its calls paid a new TCP
// connection.
type httpTransport struct {
	url        string
	user, pass string
	hc         *http.Client
}

func newHTTPTransport(cfg Config) *httpTransport {
	return &httpTransport{url: "http://" + cfg.Bitcoind + "/", user: cfg.User, pass: cfg.Pass,
		hc: &http.Client{Transport: &http.Transport{
			// No proxy from the environment: the RPC password
			// goes to the node only.
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     idleTimeout,
		}}}
}

// request is a JSON-RPC 1.0 call as bitcoind reads it.
type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      int    `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

// response is bitcoind's answer to one call.
type response struct {
	Result json.RawMessage   `json:"result"`
	Error  *btcjson.RPCError `json:"error"`
	ID     *int              `json:"id"`
}

// send posts one call as itself and several as one JSON-RPC batch.
func (t *httpTransport) send(ctx context.Context, calls []call) ([]result, error) {
	reqs := make([]request, len(calls))
	for i, c := range calls {
		params := c.params
		if params == nil {
			params = []any{}
		}
		reqs[i] = request{JSONRPC: "1.0", ID: i, Method: c.method, Params: params}
	}
	var body []byte
	var err error
	if len(reqs) == 1 {
		body, err = json.Marshal(reqs[0])
	} else {
		body, err = json.Marshal(reqs)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", calls[0].method, err)
	}
	raw, status, err := t.post(ctx, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", calls[0].method, err)
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return nil, fmt.Errorf("%s: the node refused the RPC user and password (HTTP %d)", calls[0].method, status)
	}
	var resps []response
	if len(reqs) == 1 {
		// bitcoind answers a refused call with HTTP 500 or 404 and
		// the error in the body.
		var r response
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("%s: HTTP %d: %q", calls[0].method, status, abbrev(raw))
		}
		resps = []response{r}
	} else if err := json.Unmarshal(raw, &resps); err != nil {
		return nil, fmt.Errorf("batch of %d %s: HTTP %d: %q", len(calls), calls[0].method, status, abbrev(raw))
	}
	if len(resps) != len(calls) {
		return nil, fmt.Errorf("batch of %d %s: %d answers", len(calls), calls[0].method, len(resps))
	}
	out := make([]result, len(calls))
	seen := make([]bool, len(calls))
	for _, r := range resps {
		i := 0 // a lone call's error may come with a null id
		if r.ID != nil {
			i = *r.ID
		} else if len(calls) > 1 {
			i = -1
		}
		if i < 0 || i >= len(calls) || seen[i] {
			return nil, fmt.Errorf("batch of %d %s: an answer with a wrong id", len(calls), calls[0].method)
		}
		seen[i] = true
		if r.Error != nil {
			out[i].err = r.Error
		} else {
			out[i].raw = r.Result
		}
	}
	return out, nil
}

// post sends body and returns the answer's body and status, having read
// it to the end so that the connection can be used again.
func (t *httpTransport) post(ctx context.Context, body []byte) ([]byte, int, error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	// Every call is a read: net/http may send it again on a new
	// connection when bitcoind closed the idle one first. (A nil value
	// marks it so without sending the header.)
	req.Header["Idempotency-Key"] = nil
	req.SetBasicAuth(t.user, t.pass)
	resp, err := t.hc.Do(req)
	if err != nil {
		if ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
			return nil, 0, ErrTimeout
		}
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, 0, fmt.Errorf("read the answer: %w", err)
	}
	if len(raw) > maxAnswer {
		return nil, 0, fmt.Errorf("the answer is larger than %d bytes", maxAnswer)
	}
	return raw, resp.StatusCode, nil
}

func (t *httpTransport) close() { t.hc.CloseIdleConnections() }
