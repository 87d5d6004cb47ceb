package server

import (
	"sync"
	"time"
)

// ttlCache keeps values until their own expiry, bounded in size: when full,
// expired entries go first, then the entry closest to expiry. Reads share
// the lock, so cache hits from many requests do not queue behind each other.
type ttlCache[V any] struct {
	mu    sync.RWMutex
	max   int
	items map[string]cacheItem[V]
	now   func() time.Time
}

type cacheItem[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[V any](max int, now func() time.Time) *ttlCache[V] {
	return &ttlCache[V]{max: max, items: map[string]cacheItem[V]{}, now: now}
}

func (c *ttlCache[V]) get(key string) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	it, ok := c.items[key]
	if !ok || !c.now().Before(it.expires) {
		var zero V
		return zero, false
	}
	return it.v, true
}

func (c *ttlCache[V]) put(key string, v V, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.items) >= c.max {
		c.evict(now)
	}
	c.items[key] = cacheItem[V]{v: v, expires: now.Add(ttl)}
}

func (c *ttlCache[V]) evict(now time.Time) {
	var oldestKey string
	var oldest time.Time
	for k, it := range c.items {
		if !now.Before(it.expires) {
			delete(c.items, k)
			continue
		}
		if oldestKey == "" || it.expires.Before(oldest) {
			oldestKey, oldest = k, it.expires
		}
	}
	if len(c.items) >= c.max && oldestKey != "" {
		delete(c.items, oldestKey)
	}
}
