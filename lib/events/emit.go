package events

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/s3pipe/s3pipe/lib/record"
)

// Newer reports whether event a happened after event b on the same key. S3
// defines the order by the sequencer: "right pad the shorter value with
// zeros, then do a lexicographical comparison" (S3 User Guide, "Event message
// structure"). Without sequencers (some restore or lifecycle events, other
// S3 implementations) the event time decides; on a tie a is not newer.
func Newer(a, b *Event) bool {
	if a.Sequencer != "" && b.Sequencer != "" {
		x, y := strings.ToUpper(a.Sequencer), strings.ToUpper(b.Sequencer)
		if n := len(y) - len(x); n > 0 {
			x += strings.Repeat("0", n)
		} else if n < 0 {
			y += strings.Repeat("0", -n)
		}
		return x > y
	}
	return a.Time.After(b.Time)
}

// EmitOptions say which events become records and in what order.
type EmitOptions struct {
	// Deletes emits deletes as delete-marker records; otherwise they are only
	// counted (Counts.DeletesSkipped).
	Deletes bool
	// Latest keeps only the newest event of each bucket+key and emits the
	// records sorted by key (then bucket), as s3diff needs. It holds one
	// event per distinct key in memory.
	Latest bool
	// MaxKeys bounds the distinct keys Latest holds (0 = 1,000,000); more is
	// an error rather than an unbounded heap.
	MaxKeys int
}

// DefaultMaxKeys is EmitOptions.MaxKeys when it is 0 (about 300 bytes each).
const DefaultMaxKeys = 1_000_000

// Counts says what Emit did with the events beyond what Decoder.Stats says.
type Counts struct {
	Emitted        int64
	DeletesSkipped int64 // deletes not emitted (EmitOptions.Deletes unset)
	Superseded     int64 // events replaced by a newer event of the same key (Latest)
}

// Emit reads every event of d and calls emit with its record. Without
// Latest, records come in input order (events arrive unordered: fine for
// s3mpplan and s3copy, not for s3diff, which needs key order). The Object
// passed to emit is reused between calls.
func Emit(d *Decoder, opts EmitOptions, emit func(*record.Object) error) (Counts, error) {
	var c Counts
	var o record.Object
	out := func(e *Event) error {
		if e.Deleted && !opts.Deletes {
			c.DeletesSkipped++
			return nil
		}
		e.Object(&o)
		c.Emitted++
		return emit(&o)
	}
	if !opts.Latest {
		for {
			e, err := d.Next()
			if err == io.EOF {
				return c, nil
			}
			if err != nil {
				return c, err
			}
			if err := out(e); err != nil {
				return c, err
			}
		}
	}
	max := opts.MaxKeys
	if max <= 0 {
		max = DefaultMaxKeys
	}
	type bk struct{ bucket, key string }
	latest := map[bk]*Event{}
	for {
		e, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return c, err
		}
		k := bk{e.Bucket, e.Key}
		if old, ok := latest[k]; ok {
			c.Superseded++
			if Newer(e, old) {
				*old = *e
			}
			continue
		}
		if len(latest) >= max {
			return c, fmt.Errorf("more than %d distinct keys in the events; raise the limit or leave the events unsorted", max)
		}
		ev := *e
		latest[k] = &ev
	}
	es := make([]*Event, 0, len(latest))
	for _, e := range latest {
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].Key != es[j].Key {
			return es[i].Key < es[j].Key
		}
		return es[i].Bucket < es[j].Bucket
	})
	for _, e := range es {
		if err := out(e); err != nil {
			return c, err
		}
	}
	return c, nil
}
