package store

// BatchPending is how many callers wait for a runner of b.
func BatchPending(b *Batcher) int { return len(b.reqs) }

// BatchTransactions is how many transactions b has begun.
func BatchTransactions(b *Batcher) int64 { return b.txs.Load() }
