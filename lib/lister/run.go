package lister

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/partfile"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Counter names (group "s3list").
const (
	CounterObjects       = "objects"        // records listed (in version mode: versions + delete markers)
	CounterBytes         = "bytes"          // sum of sizes
	CounterUnits         = "units"          // units listed completely
	CounterErrors        = "errors"         // units that failed after the SDK's retries
	CounterVersions      = "versions"       // version mode: object versions
	CounterDeleteMarkers = "delete_markers" // version mode: delete markers
)

// CounterNames lists the counters Run uses.
func CounterNames(versions bool) []string {
	names := []string{CounterObjects, CounterBytes, CounterUnits, CounterErrors}
	if versions {
		names = append(names, CounterVersions, CounterDeleteMarkers)
	}
	return names
}

// Options tune Run.
type Options struct {
	// Concurrency is the number of units listed at once (one request in
	// flight each).
	Concurrency int
	// WaitingMemory is the memory shared by units that finished pages but
	// wait for their turn in the output; beyond it they spill to temp files.
	WaitingMemory int64
	// HeadMemory is how much the streaming head unit may run ahead of the
	// output writer.
	HeadMemory int64
	// TempDir holds spill files ("" = the system default).
	TempDir string
}

// Defaults: 64 MiB shared by waiting units; 4 MiB ahead for the head unit.
const (
	DefaultWaitingMemory = 64 << 20
	DefaultHeadMemory    = 4 << 20
)

// UnitError is a unit that failed after the SDK's retries. Run stops at it:
// the output holds every unit before it, complete, and nothing after it.
type UnitError struct {
	Unit   partfile.Unit
	Bucket string
	// Partial is true when the unit was streaming (head of the line) when it
	// failed, so the output ends with part of its listing.
	Partial bool
	Err     error
}

func (e *UnitError) Error() string {
	tail := "; the output holds every unit before it and nothing after"
	if e.Partial {
		tail = "; the output holds every unit before it and ends with a partial listing of this one"
	}
	if e.Unit.Kind == partfile.Inventory {
		return fmt.Sprintf("read unit %s: %v%s", e.Unit.String(), e.Err, tail)
	}
	return fmt.Sprintf("list s3://%s unit %s: %v%s", e.Bucket, e.Unit.String(), e.Err, tail)
}

func (e *UnitError) Unwrap() error { return e.Err }

// Run lists units concurrently and writes their object records to out, each
// unit's records contiguous and units in input order (a sorted part file
// gives a sorted output). It stops at the first unit that fails and returns
// a *UnitError; on cancellation it returns an error wrapping ctx.Err() after
// writing the units that completed before the first unfinished one.
func (l *Lister) Run(ctx context.Context, units []partfile.Unit, out io.Writer, set *counters.Set, opt Options) error {
	if opt.Concurrency < 1 {
		opt.Concurrency = 1
	}
	if opt.WaitingMemory <= 0 {
		opt.WaitingMemory = DefaultWaitingMemory
	}
	if opt.HeadMemory <= 0 {
		opt.HeadMemory = DefaultHeadMemory
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type job struct {
		unit  partfile.Unit
		spool *spool
	}
	bud := &budget{max: opt.WaitingMemory}
	// order carries every started unit's spool to the writer in input order;
	// its capacity bounds how far listing runs ahead of the output.
	order := make(chan *spool, opt.Concurrency)
	jobs := make(chan job)
	var wg sync.WaitGroup

	wg.Add(1)
	go func() { // dispatcher
		defer wg.Done()
		defer close(order)
		defer close(jobs)
		for _, u := range units {
			s := newSpool(bud, opt.HeadMemory, opt.TempDir)
			select {
			case order <- s:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{u, s}:
			case <-ctx.Done():
				s.finish(ctx.Err())
				return
			}
		}
	}()

	c := l.counters(set)
	for range opt.Concurrency {
		wg.Add(1)
		go func() { // worker
			defer wg.Done()
			var sink sinkWriter
			w := tsv.NewWriter(&sink)
			for j := range jobs {
				if w.Err() != nil {
					w = tsv.NewWriter(&sink)
				}
				sink.w = j.spool
				err := l.listUnit(ctx, j.unit, w, c)
				if err == nil {
					err = w.Flush()
				}
				if err != nil && ctx.Err() == nil && !errors.Is(err, errAborted) {
					c.errors.Add(1)
				}
				if err == nil {
					c.units.Add(1)
				}
				j.spool.finish(err)
			}
		}()
	}

	// The writer: this goroutine owns out.
	bw := bufio.NewWriterSize(out, 256<<10)
	err := func() error {
		i := 0
		for s := range order {
			u := units[i]
			i++
			written, uerr, werr := s.drainTo(bw)
			if werr != nil || uerr != nil {
				s.abort() // a lister may wait for room in this spool
			}
			if werr != nil {
				return fmt.Errorf("write listing: %w", werr)
			}
			if uerr != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("listing stopped at unit %s: %w", u.String(), ctx.Err())
				}
				return &UnitError{Unit: u, Bucket: l.Bucket, Partial: written > 0, Err: uerr}
			}
		}
		if i < len(units) {
			return fmt.Errorf("listing stopped after %d of %d units: %w", i, len(units), context.Cause(ctx))
		}
		return nil
	}()
	if ferr := bw.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("write listing: %w", ferr)
	}
	cancel()
	// Free the units that will never be written, then wait for everyone.
	for s := range order {
		s.abort()
	}
	wg.Wait()
	return err
}

// sinkWriter lets a worker's tsv.Writer (and its buffer) serve one unit
// after another.
type sinkWriter struct{ w io.Writer }

func (s *sinkWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

type unitCounters struct {
	objects, bytes, units, errors, versions, deleteMarkers *atomic.Int64
}

func (l *Lister) counters(set *counters.Set) unitCounters {
	c := unitCounters{objects: set.Counter(CounterObjects), bytes: set.Counter(CounterBytes),
		units: set.Counter(CounterUnits), errors: set.Counter(CounterErrors)}
	if l.Versions {
		c.versions, c.deleteMarkers = set.Counter(CounterVersions), set.Counter(CounterDeleteMarkers)
	}
	return c
}

// listUnit lists one unit into w, flushing after every page's worth of
// records so the head unit streams.
func (l *Lister) listUnit(ctx context.Context, u partfile.Unit, w *tsv.Writer, c unitCounters) error {
	n := 0
	return l.List(ctx, u, func(o *record.Object) error {
		if err := o.Write(w); err != nil {
			return err
		}
		c.objects.Add(1)
		c.bytes.Add(o.Size)
		if l.Versions {
			if o.DeleteMarker {
				c.deleteMarkers.Add(1)
			} else {
				c.versions.Add(1)
			}
		}
		if n++; n%1000 == 0 {
			return w.Flush()
		}
		return nil
	})
}
