package nodeclient

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/rpcclient"
)

// wsTransport is btcd's websocket through rpcclient, which matches each
// answer to its call by id.
type wsTransport struct {
	c *rpcclient.Client
}

// dialWebsocket dials btcd's websocket; rpcclient gives up no dial by
// itself, so this one ends with ctx or after dialTimeout.
func dialWebsocket(ctx context.Context, cfg Config) (*wsTransport, error) {
	cc := &rpcclient.ConnConfig{Host: cfg.Btcd, Endpoint: "ws", User: cfg.User, Pass: cfg.Pass,
		Certificates: cfg.Cert, DisableAutoReconnect: true}
	type dialed struct {
		c   *rpcclient.Client
		err error
	}
	done := make(chan dialed, 1)
	go func() {
		c, err := rpcclient.New(cc, nil)
		done <- dialed{c, err}
	}()
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	select {
	case d := <-done:
		if d.err != nil {
			return nil, fmt.Errorf("btcd websocket: %w", d.err)
		}
		return &wsTransport{c: d.c}, nil
	case <-ctx.Done():
		go func() {
			if d := <-done; d.c != nil {
				d.c.Shutdown()
			}
		}()
		return nil, fmt.Errorf("btcd websocket: %w", context.Cause(ctx))
	}
}

// send writes every call before it reads the first answer: btcd works on
// several calls of one websocket at once.
func (w *wsTransport) send(ctx context.Context, calls []call) ([]result, error) {
	futures := make([]rpcclient.FutureRawResult, len(calls))
	for i, c := range calls {
		params := make([]json.RawMessage, len(c.params))
		for j, p := range c.params {
			b, err := json.Marshal(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.method, err)
			}
			params[j] = b
		}
		futures[i] = w.c.RawRequestAsync(c.method, params)
	}
	idle := time.NewTimer(callTimeout)
	defer idle.Stop()
	out := make([]result, len(calls))
	for i, f := range futures {
		select {
		case r := <-f:
			// rpcclient's Response keeps its fields to itself:
			// ReceiveFuture reads them from a channel holding it.
			again := make(chan *rpcclient.Response, 1)
			again <- r
			out[i].raw, out[i].err = rpcclient.ReceiveFuture(again)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-idle.C:
			return nil, fmt.Errorf("%s: %w", calls[i].method, ErrTimeout)
		}
		idle.Reset(callTimeout)
	}
	return out, nil
}

func (w *wsTransport) close() {
	w.c.Shutdown()
	w.c.WaitForShutdown()
}
