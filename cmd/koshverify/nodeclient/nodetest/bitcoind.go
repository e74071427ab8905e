// Package nodetest is a fake bitcoind for tests of koshverify's node
// client: JSON-RPC 1.0 over HTTP on a loopback port, single calls and
// batches, answered from a Chain, counting the TCP connections it accepts.
package nodetest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// Chain is what the fake bitcoind answers from.
type Chain interface {
	BestHeight(ctx context.Context) (int64, error)
	BlockHash(ctx context.Context, height int64) (*chainhash.Hash, error)
	Block(ctx context.Context, hash *chainhash.Hash) (*wire.MsgBlock, error)
	// TxOut is gettxout's answer for op, nil when op is not unspent.
	TxOut(op wire.OutPoint) (*btcjson.GetTxOutResult, error)
}

// User and Pass are the RPC credentials the fake bitcoind accepts.
const (
	User = "rpcuser"
	Pass = "rpcpass"
)

// Bitcoind is a running fake bitcoind.
type Bitcoind struct {
	// Addr is its host:port.
	Addr  string
	chain Chain
	conns atomic.Int64
	posts atomic.Int64
	calls atomic.Int64
}

// NewBitcoind starts a fake bitcoind answering from chain, stopped when
// the test ends.
func NewBitcoind(t testing.TB, chain Chain) *Bitcoind {
	b := &Bitcoind{chain: chain}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(b.serve))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			b.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	b.Addr = strings.TrimPrefix(srv.URL, "http://")
	return b
}

// Conns is how many TCP connections it has accepted.
func (b *Bitcoind) Conns() int64 { return b.conns.Load() }

// Posts is how many HTTP requests it has answered.
func (b *Bitcoind) Posts() int64 { return b.posts.Load() }

// Calls is how many JSON-RPC calls it has answered, those in batches
// counted one by one.
func (b *Bitcoind) Calls() int64 { return b.calls.Load() }

type request struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

type response struct {
	Result any               `json:"result"`
	Error  *btcjson.RPCError `json:"error"`
	ID     json.RawMessage   `json:"id"`
}

// serve answers as bitcoind does: 401 with no body to wrong credentials;
// a single call's error with HTTP 500 (404 for an unknown method); a
// batch with HTTP 200 and one answer per call.
func (b *Bitcoind) serve(w http.ResponseWriter, r *http.Request) {
	b.posts.Add(1)
	if u, p, ok := r.BasicAuth(); !ok || u != User || p != Pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="jsonrpc"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if bytes.HasPrefix(bytes.TrimSpace(body.Bytes()), []byte("[")) {
		var reqs []request
		if err := json.Unmarshal(body.Bytes(), &reqs); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out := make([]response, len(reqs))
		for i, q := range reqs {
			out[i] = b.answer(r.Context(), q)
		}
		json.NewEncoder(w).Encode(out)
		return
	}
	var q request
	if err := json.Unmarshal(body.Bytes(), &q); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a := b.answer(r.Context(), q)
	switch {
	case a.Error != nil && a.Error.Code == btcjson.ErrRPCMethodNotFound.Code:
		w.WriteHeader(http.StatusNotFound)
	case a.Error != nil:
		w.WriteHeader(http.StatusInternalServerError)
	}
	json.NewEncoder(w).Encode(a)
}

func (b *Bitcoind) answer(ctx context.Context, q request) response {
	b.calls.Add(1)
	res, err := b.call(ctx, q.Method, q.Params)
	if err != nil {
		return response{Result: nil, Error: err, ID: q.ID}
	}
	return response{Result: res, ID: q.ID}
}

func (b *Bitcoind) call(ctx context.Context, method string, params []json.RawMessage) (any, *btcjson.RPCError) {
	arg := func(i int, v any) *btcjson.RPCError {
		if i >= len(params) {
			return btcjson.NewRPCError(btcjson.ErrRPCInvalidParams.Code, fmt.Sprintf("%s: missing parameter %d", method, i))
		}
		if err := json.Unmarshal(params[i], v); err != nil {
			return btcjson.NewRPCError(btcjson.ErrRPCInvalidParams.Code, fmt.Sprintf("%s: parameter %d: %v", method, i, err))
		}
		return nil
	}
	switch method {
	case "getblockcount":
		n, err := b.chain.BestHeight(ctx)
		if err != nil {
			return nil, btcjson.NewRPCError(btcjson.ErrRPCMisc, err.Error())
		}
		return n, nil
	case "getblockhash":
		var h int64
		if e := arg(0, &h); e != nil {
			return nil, e
		}
		hash, err := b.chain.BlockHash(ctx, h)
		if err != nil {
			return nil, btcjson.NewRPCError(btcjson.ErrRPCInvalidParameter, "Block height out of range")
		}
		return hash.String(), nil
	case "getblock":
		var s string
		var verbosity int
		if e := arg(0, &s); e != nil {
			return nil, e
		}
		if e := arg(1, &verbosity); e != nil || verbosity != 0 {
			return nil, btcjson.NewRPCError(btcjson.ErrRPCInvalidParams.Code, "the fake serves verbosity 0 only")
		}
		hash, err := chainhash.NewHashFromStr(s)
		if err != nil {
			return nil, btcjson.NewRPCError(btcjson.ErrRPCInvalidParameter, err.Error())
		}
		blk, err := b.chain.Block(ctx, hash)
		if err != nil {
			return nil, btcjson.NewRPCError(btcjson.ErrRPCInvalidAddressOrKey, "Block not found")
		}
		var buf bytes.Buffer
		if err := blk.Serialize(&buf); err != nil {
			return nil, btcjson.NewRPCError(btcjson.ErrRPCMisc, err.Error())
		}
		return hex.EncodeToString(buf.Bytes()), nil
	case "gettxout":
		var s string
		var vout uint32
		var mempool bool
		if e := arg(0, &s); e != nil {
			return nil, e
		}
		if e := arg(1, &vout); e != nil {
			return nil, e
		}
		if e := arg(2, &mempool); e != nil {
			return nil, e
		}
		hash, err := chainhash.NewHashFromStr(s)
		if err != nil {
			return nil, btcjson.NewRPCError(btcjson.ErrRPCInvalidParameter, err.Error())
		}
		res, err := b.chain.TxOut(wire.OutPoint{Hash: *hash, Index: vout})
		if err != nil {
			return nil, btcjson.NewRPCError(btcjson.ErrRPCMisc, err.Error())
		}
		if res == nil {
			return nil, nil
		}
		return res, nil
	}
	return nil, btcjson.NewRPCError(btcjson.ErrRPCMethodNotFound.Code, "Method not found")
}
