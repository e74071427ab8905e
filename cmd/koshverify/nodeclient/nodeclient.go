// Package nodeclient is koshverify's client of the verifier's own bitcoin
// node: btcd over one websocket (TLS, verified with btcd's rpc.cert),
// bitcoind over HTTP POST on kept-alive connections. It asks only what
// koshverify checks: the tip, block hashes, blocks and unspent outputs.
//
// btcd closes the connection after every HTTP POST answer, so over POST
// each call paid a TCP and TLS handshake (about 6 ms); over the websocket
// calls share one connection, and many are sent before the first answer
// is read. rpcclient's own POST mode closes the connection after every
// call against any node, so bitcoind is spoken to here with net/http.
package nodeclient

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// Config says which node to dial and how.
type Config struct {
	// Btcd is btcd's RPC host:port, dialed as a TLS websocket verified
	// with Cert (btcd's rpc.cert, PEM). Bitcoind is bitcoind's RPC
	// host:port, spoken to in plain HTTP. Exactly one is set.
	Btcd, Bitcoind string
	Cert           []byte
	User, Pass     string
}

// window is how many calls of a TxOuts are in flight at once: as many go
// in one JSON-RPC batch to bitcoind, and as many are sent over btcd's
// websocket before their answers are read. On btcd (regtest, 2 cores),
// 10,000 gettxout took 0.41–0.47 s pipelined 500 at a time, 0.41–0.61 s
// all at once, 0.55–0.73 s in HTTP POST batches of 500 and 1.4–1.6 s one
// after another over the websocket.
const window = 500

// callTimeout bounds the wait for an answer: for one call, or for the
// next answer of many in flight.
const callTimeout = time.Minute

// dialTimeout bounds dialing btcd's websocket.
const dialTimeout = 30 * time.Second

// ErrTimeout means the node sent no answer within callTimeout.
var ErrTimeout = errors.New("the node did not answer within " + callTimeout.String())

// Client is a connection to the verifier's node, safe for concurrent use.
// It is an anchor.TipNode (proofs/anchor) by its methods.
type Client struct {
	t transport
}

// call is one JSON-RPC call.
type call struct {
	method string
	params []any
}

// transport sends JSON-RPC calls to the node.
type transport interface {
	// send sends the calls, all before reading any answer where the
	// transport allows, and returns each call's result. An error in
	// one call's answer is that call's; the error returned is for all.
	send(ctx context.Context, calls []call) ([]result, error)
	close()
}

// result is one call's answer: its JSON result or its error (a
// *btcjson.RPCError when the node refused the call).
type result struct {
	raw json.RawMessage
	err error
}

// Dial connects to the node cfg names. A btcd websocket is dialed at once
// (its handshake, TLS and the RPC user checked); a bitcoind client makes
// its first connection with its first call.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	switch {
	case cfg.Btcd != "" && cfg.Bitcoind != "":
		return nil, errors.New("nodeclient: both btcd and bitcoind given")
	case cfg.Btcd != "":
		if len(cfg.Cert) == 0 {
			return nil, errors.New("nodeclient: btcd needs its rpc.cert")
		}
		t, err := dialWebsocket(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return &Client{t: t}, nil
	case cfg.Bitcoind != "":
		return &Client{t: newHTTPTransport(cfg)}, nil
	}
	return nil, errors.New("nodeclient: no node given")
}

// Close ends the connection.
func (c *Client) Close() { c.t.close() }

// one sends a single call and returns its result.
func (c *Client) one(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	res, err := c.t.send(ctx, []call{{method: method, params: params}})
	if err != nil {
		return nil, err
	}
	return res[0].raw, res[0].err
}

// BestHeight returns the height of the node's best chain (getblockcount).
func (c *Client) BestHeight(ctx context.Context) (int64, error) {
	raw, err := c.one(ctx, "getblockcount")
	if err != nil {
		return 0, err
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("getblockcount answered %s: %w", abbrev(raw), err)
	}
	return n, nil
}

// BlockHash returns the hash of the block at height in the node's best
// chain (getblockhash).
func (c *Client) BlockHash(ctx context.Context, height int64) (*chainhash.Hash, error) {
	raw, err := c.one(ctx, "getblockhash", height)
	if err != nil {
		return nil, err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("getblockhash answered %s: %w", abbrev(raw), err)
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return nil, fmt.Errorf("getblockhash answered %s: %w", abbrev(raw), err)
	}
	return h, nil
}

// Block returns the block with hash (getblock, serialized).
func (c *Client) Block(ctx context.Context, hash *chainhash.Hash) (*wire.MsgBlock, error) {
	raw, err := c.one(ctx, "getblock", hash.String(), 0)
	if err != nil {
		return nil, err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("getblock %s answered %s: %w", hash, abbrev(raw), err)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("getblock %s: the block is not hex: %w", hash, err)
	}
	var blk wire.MsgBlock
	if err := blk.Deserialize(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("getblock %s: the block does not decode: %w", hash, err)
	}
	return &blk, nil
}

// Unspent reports whether op is in the node's UTXO set (gettxout, without
// the mempool).
func (c *Client) Unspent(ctx context.Context, op wire.OutPoint) (bool, error) {
	raw, err := c.one(ctx, "gettxout", op.Hash.String(), op.Index, false)
	if err != nil {
		return false, err
	}
	res, err := txOut(raw)
	if err != nil {
		return false, fmt.Errorf("gettxout %s: %w", op, err)
	}
	return res != nil, nil
}

// TxOuts is gettxout (without the mempool) for each of ops: one result
// per outpoint, nil for an output not in the UTXO set. The calls go
// window at a time.
func (c *Client) TxOuts(ctx context.Context, ops []wire.OutPoint) ([]*btcjson.GetTxOutResult, error) {
	out := make([]*btcjson.GetTxOutResult, 0, len(ops))
	for len(ops) > 0 {
		k := min(len(ops), window)
		calls := make([]call, k)
		for i, op := range ops[:k] {
			calls[i] = call{method: "gettxout", params: []any{op.Hash.String(), op.Index, false}}
		}
		res, err := c.t.send(ctx, calls)
		if err != nil {
			return nil, fmt.Errorf("gettxout for %d outputs: %w", k, err)
		}
		for i, r := range res {
			if r.err != nil {
				return nil, fmt.Errorf("gettxout %s: %w", ops[i], r.err)
			}
			o, err := txOut(r.raw)
			if err != nil {
				return nil, fmt.Errorf("gettxout %s: %w", ops[i], err)
			}
			out = append(out, o)
		}
		ops = ops[k:]
	}
	return out, nil
}

// txOut reads gettxout's answer: nil (JSON null) for an output not in the
// UTXO set.
func txOut(raw json.RawMessage) (*btcjson.GetTxOutResult, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var res btcjson.GetTxOutResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("answer %s: %w", abbrev(raw), err)
	}
	return &res, nil
}

// abbrev is at most the first 200 bytes of b, for an error message.
func abbrev(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
