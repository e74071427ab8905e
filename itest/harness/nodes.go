package harness

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/itest/harness/lndnode"
)

// NewNode starts one lnd node; see NewNodes.
func (h *Harness) NewNode(t testing.TB, name string, extraArgs ...string) *lndnode.Node {
	t.Helper()
	return h.newNodes(t, []string{name}, extraArgs)[0]
}

// NewNodes starts one lnd node per name, in parallel, and waits until each is
// synced to btcd's tip. The nodes are stopped at t.Cleanup (and on Close);
// their directories are removed then unless the test failed.
func (h *Harness) NewNodes(t testing.TB, names ...string) []*lndnode.Node {
	t.Helper()
	return h.newNodes(t, names, nil)
}

func (h *Harness) newNodes(t testing.TB, names []string, extraArgs []string) []*lndnode.Node {
	t.Helper()
	nodes := make([]*lndnode.Node, len(names))
	for i, name := range names {
		n, err := h.prepareNode(name, extraArgs)
		if err != nil {
			t.Fatalf("prepare lnd %s: %v", name, err)
		}
		nodes[i] = n
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			if t.Failed() {
				t.Logf("lnd %s logs: %s, %s", n.Name, n.StdoutLogPath(), n.LogPath())
			}
		}
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(func() {
				if err := n.Shutdown(); err != nil {
					t.Errorf("stop lnd %s: %v", n.Name, err)
				}
			})
		}
		wg.Wait()
		if !t.Failed() {
			for _, n := range nodes {
				os.RemoveAll(n.Dir)
			}
		}
	})

	t0 := time.Now()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), lndnode.StartTimeout)
			defer cancel()
			errs[i] = n.StartContext(ctx)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("start lnd nodes: %v", err)
	}
	t.Logf("harness: started lnd %v in %s", names, time.Since(t0).Round(time.Millisecond))
	return nodes
}

func (h *Harness) prepareNode(name string, extraArgs []string) (*lndnode.Node, error) {
	n, err := lndnode.New(lndnode.Config{
		Name:        name,
		Parent:      h.dir,
		Bin:         h.lndBinary,
		BtcdRPCAddr: h.rpcAddr,
		BtcdRPCUser: h.rpcUser,
		BtcdRPCPass: h.rpcPass,
		BtcdRPCCert: h.rpcCert,
		Args:        append(slices.Clone(h.cfg.LndArgs), extraArgs...),
		BestHeight: func() (int32, error) {
			_, height, err := h.client.GetBestBlock()
			return height, err
		},
	})
	if err != nil {
		return nil, err
	}
	h.nodesMu.Lock()
	h.nodes = append(h.nodes, n)
	h.nodesMu.Unlock()
	return n, nil
}
