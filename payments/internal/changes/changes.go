package changes

import "sync"

// Set wakes the waiters of keys (redemption ids). A waiter registers with
// Watch, takes the channels of the next change with Next before reading
// what it waits for, then waits for one of them to close: a change signalled
// after the read closes it, so none is missed.
type Set struct {
	mu  sync.Mutex
	ids map[string]*watchers
	all chan struct{}
}

// watchers is one key's waiters: n of them, woken by closing ch.
type watchers struct {
	ch chan struct{}
	n  int
}

// New returns an empty Set.
func New() *Set {
	return &Set{ids: map[string]*watchers{}, all: make(chan struct{})}
}

// Watch registers a waiter for key id; Unwatch ends it.
func (c *Set) Watch(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.ids[id]
	if w == nil {
		w = &watchers{ch: make(chan struct{})}
		c.ids[id] = w
	}
	w.n++
}

// Unwatch ends a waiter registered by Watch.
func (c *Set) Unwatch(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.ids[id]; w != nil {
		if w.n--; w.n <= 0 {
			delete(c.ids, id)
		}
	}
}

// Next returns the channels closed at the next change of key id (which
// must be watched) and at the next WakeAll.
func (c *Set) Next(id string) (one, all <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ids[id].ch, c.all
}

// Changed wakes the waiters of key id, if any.
func (c *Set) Changed(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.ids[id]; w != nil {
		close(w.ch)
		w.ch = make(chan struct{})
	}
}

// WakeAll wakes every waiter, for what concerns them all (the service
// refusing new work).
func (c *Set) WakeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.all)
	c.all = make(chan struct{})
}

// Watched is the number of keys with waiters.
func (c *Set) Watched() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ids)
}
