// Package mergejoin owns s3diff's comparison of two bucket listings: a
// streaming merge join of two object-record streams sorted by raw key
// bytes, the rules that decide whether a key must be copied (Rule), the
// order and duplicate checks that make a wrong answer impossible, and the
// Hadoop streaming form of the same join (Map tags records with their side
// under an order-preserving hex key; Reduce joins the shuffled groups).
//
// Memory is constant: each input holds its current record and the previous
// key; nothing is buffered per key or per record. Records are compared on
// raw fields (key, ETag, size, mtime, is_latest, delete_marker); the other
// columns are only counted and passed through.
package mergejoin

import (
	"bytes"
	"context"
	"sync/atomic"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Counter names (group "s3diff").
const (
	CounterSrcRecords       = "src_records"
	CounterDstRecords       = "dst_records"
	CounterMissing          = "missing"
	CounterChanged          = "changed"
	CounterExtra            = "extra"
	CounterSame             = "same"
	CounterSrcOldVersions   = "src_old_versions"
	CounterDstOldVersions   = "dst_old_versions"
	CounterSrcDeleteMarkers = "src_delete_markers"
	CounterDstDeleteMarkers = "dst_delete_markers"
	CounterMapped           = "mapped"
)

// NewCounters returns s3diff's counter set.
func NewCounters() *counters.Set {
	return counters.New("s3diff", CounterSrcRecords, CounterDstRecords, CounterMissing, CounterChanged,
		CounterExtra, CounterSame, CounterSrcOldVersions, CounterDstOldVersions,
		CounterSrcDeleteMarkers, CounterDstDeleteMarkers, CounterMapped)
}

// Report states.
const (
	StateMissing = "missing" // at the source only: copied
	StateChanged = "changed" // on both sides and different: copied
	StateExtra   = "extra"   // at the destination only: never deleted
	StateSame    = "same"    // on both sides and equal
)

// ReportColumns is the header of the report (see docs/DIFF.md).
var ReportColumns = []string{"key", "state", "fields", "src_etag", "dst_etag", "src_size", "dst_size", "src_mtime", "dst_mtime"}

// Options configure a Joiner. Nil writers discard their stream.
type Options struct {
	Rule   Rule
	Copy   *tsv.Writer // source records to copy (missing or changed), as read
	Report *tsv.Writer // one row per key, ReportColumns
	Extra  *tsv.Writer // destination-only records, as read
}

// Joiner compares a source and a destination listing.
type Joiner struct {
	opt                           Options
	missing, changed, extra, same *atomic.Int64
	src, dst                      side
}

// New returns a Joiner counting into set (from NewCounters).
func New(set *counters.Set, o Options) *Joiner {
	j := &Joiner{opt: o,
		missing: set.Counter(CounterMissing), changed: set.Counter(CounterChanged),
		extra: set.Counter(CounterExtra), same: set.Counter(CounterSame)}
	j.src = side{name: "source", records: set.Counter(CounterSrcRecords),
		oldVersions: set.Counter(CounterSrcOldVersions), markers: set.Counter(CounterSrcDeleteMarkers)}
	j.dst = side{name: "destination", records: set.Counter(CounterDstRecords),
		oldVersions: set.Counter(CounterDstOldVersions), markers: set.Counter(CounterDstDeleteMarkers)}
	return j
}

// checkEvery is how many records pass between context checks.
const checkEvery = 4096

// Join reads both sorted listings to the end and writes the differences.
func (j *Joiner) Join(ctx context.Context, src, dst *tsv.Reader) error {
	j.src.r, j.dst.r = src, dst
	sok, err := j.src.next()
	if err != nil {
		return err
	}
	dok, err := j.dst.next()
	if err != nil {
		return err
	}
	for n := 0; sok || dok; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		c := 0
		switch {
		case !dok:
			c = -1
		case !sok:
			c = 1
		default:
			c = bytes.Compare(j.src.cur.key, j.dst.cur.key)
		}
		switch {
		case c < 0:
			if err = j.pair(&j.src.cur, nil); err == nil {
				sok, err = j.src.next()
			}
		case c > 0:
			if err = j.pair(nil, &j.dst.cur); err == nil {
				dok, err = j.dst.next()
			}
		default:
			if err = j.pair(&j.src.cur, &j.dst.cur); err == nil {
				if sok, err = j.src.next(); err == nil {
					dok, err = j.dst.next()
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pair judges one key: s and/or d is its live record.
func (j *Joiner) pair(s, d *rec) error {
	var err error
	switch {
	case d == nil:
		j.missing.Add(1)
		if j.opt.Copy != nil {
			err = j.opt.Copy.Record(s.fields)
		}
		if err == nil && j.opt.Report != nil {
			err = j.report(s.key, StateMissing, 0, s, d)
		}
	case s == nil:
		j.extra.Add(1)
		if j.opt.Extra != nil {
			err = j.opt.Extra.Record(d.fields)
		}
		if err == nil && j.opt.Report != nil {
			err = j.report(d.key, StateExtra, 0, s, d)
		}
	default:
		df := diff(j.opt.Rule, s, d)
		if df == 0 {
			j.same.Add(1)
			if j.opt.Report != nil {
				err = j.report(s.key, StateSame, 0, s, d)
			}
			break
		}
		j.changed.Add(1)
		if j.opt.Copy != nil {
			err = j.opt.Copy.Record(s.fields)
		}
		if err == nil && j.opt.Report != nil {
			err = j.report(s.key, StateChanged, df, s, d)
		}
	}
	return err
}

// report writes one report row; absent sides are NULL.
func (j *Joiner) report(key []byte, state string, df int, s, d *rec) error {
	w := j.opt.Report
	w.Bytes(key)
	w.String(state)
	w.Bytes(diffNames[df])
	for _, r := range [2]*rec{s, d} {
		if r == nil {
			w.Null()
		} else {
			w.Bytes(r.etag)
		}
	}
	for _, r := range [2]*rec{s, d} {
		if r == nil {
			w.Null()
		} else {
			w.Bytes(r.fields[colSize])
		}
	}
	for _, r := range [2]*rec{s, d} {
		if r == nil {
			w.Null()
		} else {
			w.Bytes(r.mtime)
		}
	}
	return w.End()
}
