package copier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3pipe/s3pipe/lib/props"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Router sends each plan row to the copier of its destination bucket
// (fan-out: several destinations, possibly on other endpoints with other
// credentials). Buckets not in ByBucket go to Default.
type Router struct {
	Default  *Copier
	ByBucket map[string]*Copier
}

// For returns the copier of a destination bucket.
func (rt *Router) For(bucket string) *Copier {
	if c, ok := rt.ByBucket[bucket]; ok {
		return c
	}
	return rt.Default
}

// MaxGroup bounds the rows read together as one group (destinations of one
// source range).
const MaxGroup = 64

// SameSource reports whether b reads exactly the source range a reads (same
// object version, same bytes) for another destination, so both can be fed
// from one GET.
func SameSource(a, b *record.Plan) bool {
	return (a.Action == record.ActionCopy || a.Action == record.ActionPart) && a.Action == b.Action &&
		a.SrcBucket == b.SrcBucket && a.Key == b.Key && a.VersionID == b.VersionID && a.ETag == b.ETag &&
		a.Size == b.Size && a.Offset == b.Offset && a.Length == b.Length && a.DstBucket != b.DstBucket
}

// joins reports whether p belongs to the group of rows g.
func joins(g []record.Plan, p *record.Plan) bool {
	if len(g) == 0 || len(g) >= MaxGroup || !SameSource(&g[0], p) {
		return false
	}
	for i := range g {
		if g[i].DstBucket == p.DstBucket {
			return false
		}
	}
	return true
}

// streams reports whether c would stream p (not copy it server-side).
func (c *Copier) streams(p *record.Plan) bool {
	if _, inPlace, _ := props.ParseInPlaceNote(p.Note); inPlace {
		return false
	}
	return c.cfg.Mode == ModeStream || (c.cfg.Mode == ModeAuto && !c.cfg.SameIdentity)
}

// CopyGroup copies rows that read the same source range to their
// destinations, one result per row in row order. The rows that stream
// share one GET of the source: its body is written to every destination at
// once, the slowest destination setting the pace; a destination that fails
// is dropped from the tee and gets its own failed row (retried on its own
// read) while the others go on. Rows copied server-side each make their own
// copy. The error is the first fatal one (*Fatal).
func (rt *Router) CopyGroup(ctx context.Context, ps []record.Plan) ([]record.Result, error) {
	res := make([]record.Result, len(ps))
	cps := make([]*Copier, len(ps))
	var streamed []int
	for i := range ps {
		cps[i] = rt.For(ps[i].DstBucket)
		if cps[i].streams(&ps[i]) {
			streamed = append(streamed, i)
		}
	}
	ctxs := make([]context.Context, len(ps))
	for i := range ctxs {
		ctxs[i] = ctx
	}
	var sh *share
	if len(streamed) > 1 {
		sh = newShare(ctx, len(streamed))
		defer sh.close()
		for slot, i := range streamed {
			ctxs[i] = context.WithValue(ctx, shareKey{}, &shareSlot{sh: sh, i: slot})
		}
	}
	var mu sync.Mutex
	var fatal error
	var wg sync.WaitGroup
	for i := range ps {
		wg.Go(func() {
			r, err := cps[i].Copy(ctxs[i], &ps[i])
			if s, ok := ctxs[i].Value(shareKey{}).(*shareSlot); ok {
				s.sh.detach(s.i)
			}
			res[i] = r
			if err != nil {
				mu.Lock()
				if fatal == nil {
					fatal = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return res, fatal
}

// shareKey carries a row's *shareSlot in its context, for Copier.get.
type shareKey struct{}

type shareSlot struct {
	sh     *share
	i      int
	served atomic.Bool
}

// chunkSize is the unit the tee hands to each destination; teeDepth chunks
// may wait per destination, so a group buffers at most about
// (teeDepth+1) × chunkSize per destination.
const (
	chunkSize = 256 << 10
	teeDepth  = 4
)

// share is one source read feeding several destinations through one
// io.Pipe each.
type share struct {
	ctx    context.Context // the group's: outlives every row's own request
	cancel context.CancelFunc
	live   atomic.Int32 // destinations still reading
	r      []*io.PipeReader
	w      []*io.PipeWriter
	once   sync.Once
	out    *s3.GetObjectOutput
	err    error
	done   chan struct{} // closed when the tee has finished (if it started)
	pool   sync.Pool
}

var errDetached = errors.New("destination no longer reading")

func newShare(ctx context.Context, n int) *share {
	s := &share{r: make([]*io.PipeReader, n), w: make([]*io.PipeWriter, n)}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.live.Store(int32(n))
	for i := range n {
		s.r[i], s.w[i] = io.Pipe()
	}
	s.pool.New = func() any { b := make([]byte, chunkSize); return &b }
	return s
}

// detach closes slot i's reading end: writes to it fail at once, so the
// tee stops waiting for that destination.
func (s *share) detach(i int) { s.r[i].CloseWithError(errDetached) }

// close waits for a started tee and releases the source body.
func (s *share) close() {
	for i := range s.r {
		s.detach(i)
	}
	s.cancel() // every row is done: stop reading the source
	if s.done != nil {
		<-s.done
	}
}

// shared returns the row's view of the group's one source read: the same
// response with the body replaced by the row's pipe. ok is false when the
// row is not in a group, has been served already (a retry reads on its
// own), or wants a different read (a part read by part number for its
// checksum) — then the row is detached and reads for itself.
func (c *Copier) shared(ctx context.Context, p *record.Plan, ranged, byPart bool) (*s3.GetObjectOutput, bool, error) {
	slot, _ := ctx.Value(shareKey{}).(*shareSlot)
	if slot == nil || !slot.served.CompareAndSwap(false, true) {
		return nil, false, nil
	}
	s := slot.sh
	if byPart || ranged != (p.Action == record.ActionPart) {
		s.detach(slot.i)
		return nil, false, nil
	}
	s.once.Do(func() {
		// The group's context, without a slot: the read outlives the row
		// that happened to start it.
		gctx := context.WithValue(s.ctx, shareKey{}, (*shareSlot)(nil))
		s.out, s.err = c.get(gctx, p, ranged, false)
		if s.err != nil {
			return
		}
		s.done = make(chan struct{})
		go s.tee(s.out.Body, p.Length)
	})
	if s.err != nil {
		s.detach(slot.i)
		return nil, true, s.err
	}
	out := *s.out
	out.Body = s.r[slot.i]
	out.Metadata = maps.Clone(s.out.Metadata)
	return &out, true, nil
}

// chunk is a piece of the source shared by every destination; the last
// one to finish with it returns it to the pool.
type chunk struct {
	b    *[]byte
	n    int
	refs atomic.Int32
}

// tee reads n bytes of body and writes them to every pipe. One goroutine
// per destination writes its pipe, taking chunks from its own bounded
// channel: a full channel blocks the tee, so the slowest destination sets
// the pace; a destination whose pipe fails (its request ended) keeps
// draining its channel without writing, so it never blocks the others.
func (s *share) tee(body io.ReadCloser, n int64) {
	defer close(s.done)
	defer body.Close()
	chans := make([]chan *chunk, len(s.w))
	var final error // set before the channels close
	var wg sync.WaitGroup
	for i := range s.w {
		chans[i] = make(chan *chunk, teeDepth)
		wg.Go(func() {
			dead := false
			for ck := range chans[i] {
				if !dead {
					if _, err := s.w[i].Write((*ck.b)[:ck.n]); err != nil {
						dead = true
						s.live.Add(-1)
					}
				}
				if ck.refs.Add(-1) == 0 {
					s.pool.Put(ck.b)
				}
			}
			s.w[i].CloseWithError(final) // nil: the reader sees EOF
		})
	}
	for left := n; left > 0 && final == nil; {
		if s.live.Load() == 0 {
			final = errDetached // nobody reads any more: stop reading the source
			break
		}
		b := s.pool.Get().(*[]byte)
		k, err := io.ReadFull(body, (*b)[:min(int64(len(*b)), left)])
		left -= int64(k)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("%w: %d bytes missing", ErrTruncated, left)
			}
			final = err
		}
		if k == 0 {
			s.pool.Put(b)
			continue
		}
		ck := &chunk{b: b, n: k}
		ck.refs.Store(int32(len(chans)))
		for _, ch := range chans {
			select {
			case ch <- ck:
			case <-s.ctx.Done():
				if ck.refs.Add(-1) == 0 {
					s.pool.Put(b)
				}
				if final == nil {
					final = s.ctx.Err()
				}
			}
		}
	}
	// A failed read reaches each reader as the error after the chunks
	// already queued, never as EOF: a short read cannot complete an object.
	for _, ch := range chans {
		close(ch)
	}
	wg.Wait()
}

// RunGroups is Run for a fan-out: consecutive rows that read the same
// source range (SameSource) form one group, copied with Router.CopyGroup
// (up to workers groups at once); one result row per plan row.
func RunGroups(ctx context.Context, rt *Router, in *tsv.Reader, out io.Writer, workers int) error {
	return runPlanRows(ctx, in, out, workers, joins, rt.CopyGroup)
}

// ForDestination returns a copier like c (configuration, source, counters,
// limiter) writing to another destination client; sameIdentity tells
// whether that client can read the source (server-side copy).
func (c *Copier) ForDestination(dst API, sameIdentity bool) *Copier {
	cfg := c.cfg
	cfg.SameIdentity = sameIdentity
	return &Copier{cfg: cfg, src: c.src, dst: dst, opts: c.opts, set: c.set, bufs: make(chan []byte, cfg.Workers)}
}
