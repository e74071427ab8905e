package changes

import "testing"

// TestChanges: a change of one key wakes its waiters only; wakeAll
// wakes everyone; the last Unwatch forgets the key.
func TestChanges(t *testing.T) {
	c := New()
	c.Watch("a")
	c.Watch("a")
	c.Watch("b")
	a, all := c.Next("a")
	bch, _ := c.Next("b")
	c.Changed("a")
	c.Changed("nobody") // no waiter: nothing to do
	select {
	case <-a:
	default:
		t.Fatal("a's change did not wake a's waiter")
	}
	select {
	case <-bch:
		t.Fatal("a's change woke b's waiter")
	case <-all:
		t.Fatal("a's change woke everyone")
	default:
	}
	a2, _ := c.Next("a")
	select {
	case <-a2:
		t.Fatal("the next change of a is already signalled")
	default:
	}
	c.WakeAll()
	select {
	case <-all:
	default:
		t.Fatal("wakeAll did not wake")
	}
	c.Unwatch("a")
	c.Unwatch("b")
	if n := c.Watched(); n != 1 {
		t.Fatalf("%d keys watched, want a (one waiter left)", n)
	}
	c.Unwatch("a")
	if n := c.Watched(); n != 0 {
		t.Fatalf("%d keys watched after every Unwatch", n)
	}
}
