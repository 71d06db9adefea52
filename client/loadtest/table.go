package loadtest

import (
	"sync"
	"sync/atomic"
)

// tableBlock is how many entries a table allocates at once.
const tableBlock = 4096

// table is a growable array indexed by revision, read without locks: every
// bot looks up the same revision at about the same moment, hundreds of
// times, and a shared RWMutex's counter bouncing between cores cost more
// than the lookups. Entries never move once allocated.
type table[T any] struct {
	mu     sync.Mutex // serialises growing
	blocks atomic.Pointer[[]*[tableBlock]T]
}

// at returns the entry of index i (i >= 0), allocating its block on first use.
func (t *table[T]) at(i int64) *T {
	k := int(i / tableBlock)
	if bs := t.blocks.Load(); bs != nil && k < len(*bs) && (*bs)[k] != nil {
		return &(*bs)[k][i%tableBlock]
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var cur []*[tableBlock]T
	if bs := t.blocks.Load(); bs != nil {
		cur = *bs
	}
	if k >= len(cur) || cur[k] == nil {
		next := make([]*[tableBlock]T, max(len(cur), k+1))
		copy(next, cur)
		next[k] = new([tableBlock]T)
		cur = next
		t.blocks.Store(&cur)
	}
	return &cur[k][i%tableBlock]
}
