package app

import (
	"sync"
	"testing"
)

// The weight counted stays the sum of what the cache holds, within its
// bound, whatever additions, replacements and lookups race.
func TestWeighedLRUKeepsItsWeightUnderConcurrency(t *testing.T) {
	c := newWeighedLRU[int, int](50, 1000)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := (i*7 + g) % 120
				c.Add(k, k, int64(1+k%40))
				c.Get((k + 3) % 120)
			}
		}()
	}
	wg.Wait()
	var sum int64
	for _, k := range c.lru.Keys() {
		e, _ := c.lru.Peek(k)
		if e.w != int64(1+e.v%40) {
			t.Fatalf("entry %d weighs %d", k, e.w)
		}
		sum += e.w
	}
	if got := c.Bytes(); got != sum || got > 1000 || c.Len() > 50 {
		t.Fatalf("counted %d bytes, held %d in %d entries; bounds 1000 bytes, 50 entries", got, sum, c.Len())
	}
	// Heavier than the whole bound: not cached, and what the key held goes.
	c.Add(1, 1, 2)
	c.Add(1, 1, 1001)
	if _, ok := c.Peek(1); ok {
		t.Fatal("an entry over the weight bound was cached")
	}
}
