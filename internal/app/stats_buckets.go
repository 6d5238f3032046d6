package app

import (
	"time"
)

// Stats bucket sizes, as the API names them.
const (
	Bucket5m = "5m"
	Bucket1h = "1h"
	Bucket1d = "1d"
)

// StatsBuckets are the bucket sizes an outbox statistics query accepts.
var StatsBuckets = []string{Bucket5m, Bucket1h, Bucket1d}

// floorLocal returns the start of the bucket of size that holds t, on the
// wall clock of loc: the last local 00:00 for 1d, the last local whole hour
// for 1h, the last local multiple of 5 minutes for 5m. A local midnight
// that does not exist (a zone that springs forward at 00:00) or exists
// twice is whichever time.Date makes of it.
func floorLocal(t time.Time, size string, loc *time.Location) time.Time {
	l := t.In(loc)
	switch size {
	case Bucket1d:
		y, mo, d := l.Date()
		return time.Date(y, mo, d, 0, 0, 0, 0, loc)
	case Bucket1h:
		// Subtracting from the instant, not time.Date, keeps the two
		// local 01:00s of an autumn change apart: time.Date would pick one.
		return l.Add(-time.Duration(l.Minute())*time.Minute - time.Duration(l.Second())*time.Second - time.Duration(l.Nanosecond()))
	default:
		return l.Add(-time.Duration(l.Minute()%5)*time.Minute - time.Duration(l.Second())*time.Second - time.Duration(l.Nanosecond()))
	}
}

// nextBucket returns the start of the bucket after the one starting at
// start. Days are calendar days, so a day on which the clocks change is 23
// or 25 hours long; hours and 5 minutes are absolute durations re-aligned
// to the wall clock, so the repeated hour of an autumn change is a bucket
// of its own and a zone whose offset is not a whole hour still gets local
// hour marks.
func nextBucket(start time.Time, size string, loc *time.Location) time.Time {
	var next time.Time
	switch size {
	case Bucket1d:
		y, mo, d := start.In(loc).Date()
		next = time.Date(y, mo, d+1, 0, 0, 0, 0, loc)
	case Bucket1h:
		next = floorLocal(start.Add(time.Hour), size, loc)
	default:
		next = floorLocal(start.Add(5*time.Minute), size, loc)
	}
	if !next.After(start) {
		// Only a zone whose offset changes by less than the bucket can
		// floor back onto start; never stall.
		next = start.Add(bucketNominal(size))
	}
	return next
}

func bucketNominal(size string) time.Duration {
	switch size {
	case Bucket1d:
		return 24 * time.Hour
	case Bucket1h:
		return time.Hour
	}
	return 5 * time.Minute
}

// StatsBucket is one time bucket: [Start, End), clipped to the window, in
// the tenant's timezone.
type StatsBucket struct {
	Start, End time.Time
}

// statsBuckets returns the buckets that cover [from, to), at most limit+1
// of them (the caller rejects more than limit), and the slot: the longest
// of 1 h, 15 min, 5 min, 1 min and 1 s that divides every interior bucket
// boundary since the Unix epoch, so that rows grouped by slot in the
// database fall each into exactly one bucket. In a zone whose offsets are
// whole hours, hourly and daily buckets give a 1 h slot.
func statsBuckets(from, to time.Time, size string, loc *time.Location, limit int) ([]StatsBucket, time.Duration) {
	var out []StatsBucket
	slots := []time.Duration{time.Hour, 15 * time.Minute, 5 * time.Minute, time.Minute, time.Second}
	if size == Bucket5m {
		slots = slots[2:]
	}
	si := 0
	start := floorLocal(from, size, loc)
	for start.Before(to) && len(out) <= limit {
		end := nextBucket(start, size, loc)
		if end.Before(to) {
			for si < len(slots)-1 && end.UnixMicro()%slots[si].Microseconds() != 0 {
				si++
			}
		}
		b := StatsBucket{Start: start, End: end}
		if b.Start.Before(from) {
			b.Start = from.In(loc)
		}
		if b.End.After(to) {
			b.End = to.In(loc)
		}
		out = append(out, b)
		start = end
	}
	return out, slots[si]
}

// bucketIndex returns the index of the bucket holding t, by binary search
// over their starts; -1 when t is outside them all.
func bucketIndex(bs []StatsBucket, t time.Time) int {
	lo, hi := 0, len(bs)
	for lo < hi {
		mid := (lo + hi) / 2
		if bs[mid].End.After(t) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo == len(bs) || t.Before(bs[lo].Start) {
		return -1
	}
	return lo
}
