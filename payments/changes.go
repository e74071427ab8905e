package payments

import "sync"

// changes tells Redeem's callers that the redemption they wait for may have
// moved, so that they re-read it instead of polling the store: a state
// written (setState), a drive of it ended (it is waiting, or failed, maybe
// because the service stopped or lnd refused the macaroon), or something
// every waiter must see (wakeAll).
//
// A waiter takes the channel of its redemption before reading it, then
// waits for the channel to close: a change committed after the read closes
// it, so none is missed.
type changes struct {
	mu  sync.Mutex
	ids map[string]*watchers
	all chan struct{}
}

// watchers is one redemption's waiters: n of them, woken by closing ch.
type watchers struct {
	ch chan struct{}
	n  int
}

func newChanges() *changes {
	return &changes{ids: map[string]*watchers{}, all: make(chan struct{})}
}

// watch registers a waiter for redemption id; unwatch ends it.
func (c *changes) watch(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.ids[id]
	if w == nil {
		w = &watchers{ch: make(chan struct{})}
		c.ids[id] = w
	}
	w.n++
}

// unwatch ends a waiter registered by watch.
func (c *changes) unwatch(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.ids[id]; w != nil {
		if w.n--; w.n <= 0 {
			delete(c.ids, id)
		}
	}
}

// next returns the channels closed at the next change of redemption id
// (which must be watched) and at the next wakeAll.
func (c *changes) next(id string) (one, all <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ids[id].ch, c.all
}

// changed wakes the waiters of redemption id, if any.
func (c *changes) changed(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.ids[id]; w != nil {
		close(w.ch)
		w.ch = make(chan struct{})
	}
}

// wakeAll wakes every waiter: for what concerns them all (the service
// refusing new work).
func (c *changes) wakeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.all)
	c.all = make(chan struct{})
}
