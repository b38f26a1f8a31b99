package lister

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// Why spools: units run concurrently but are written in input order, and a
// unit may hold many millions of records. Each unit writes its encoded
// records into its own spool:
//
//   - The unit at the head of the line (the one the output writer is on)
//     streams: the writer drains its spool as pages arrive, and the lister
//     waits when more than headMax bytes are pending, so the head costs
//     bounded memory whatever its size.
//   - A later unit cannot be written yet. It keeps its records in memory
//     while a budget shared by all waiting units allows (small units, the
//     common case, never touch the disk), then spills to an unlinked temp
//     file. Blocking instead of spilling would stall every worker behind one
//     big head unit and turn a concurrent listing into a sequential one;
//     spilling keeps all workers busy for the price of one local write and
//     read of the overflow, far cheaper than the S3 requests that made it.
//
// Memory is thus about concurrency×headMax-sized pages plus the shared
// budget, independent of unit sizes.

var errAborted = errors.New("listing stopped")

// budget is the memory shared by units waiting for their turn.
type budget struct {
	max  int64
	used atomic.Int64
}

func (b *budget) take(n int64) bool {
	if b.used.Add(n) <= b.max {
		return true
	}
	b.used.Add(-n)
	return false
}

func (b *budget) release(n int64) { b.used.Add(-n) }

type spool struct {
	budget  *budget
	headMax int64
	tempDir string

	mu       sync.Mutex
	cond     sync.Cond
	attached bool     // the writer is draining this spool (head of line)
	mem      [][]byte // pending chunks, in order, before the file (or after attach)
	memBytes int64    // bytes in mem taken from the budget (before attach)
	pending  int64    // bytes in mem after attach (head backpressure)
	file     *os.File // spilled chunks, after mem's pre-attach chunks
	fileLen  int64
	done     bool
	err      error
	aborted  bool
}

func newSpool(b *budget, headMax int64, tempDir string) *spool {
	s := &spool{budget: b, headMax: headMax, tempDir: tempDir}
	s.cond.L = &s.mu
	return s
}

// Write stores one chunk of encoded records. It is the io.Writer a unit's
// tsv.Writer flushes into.
func (s *spool) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.attached {
		for s.pending >= s.headMax && !s.aborted {
			s.cond.Wait()
		}
		if s.aborted {
			return 0, errAborted
		}
		s.mem = append(s.mem, append([]byte(nil), p...))
		s.pending += int64(len(p))
		s.cond.Broadcast()
		return len(p), nil
	}
	if s.aborted {
		return 0, errAborted
	}
	if s.file == nil && s.budget.take(int64(len(p))) {
		s.mem = append(s.mem, append([]byte(nil), p...))
		s.memBytes += int64(len(p))
		return len(p), nil
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.tempDir, "s3list-spool-*")
		if err != nil {
			return 0, fmt.Errorf("spill a waiting unit's listing to a temp file: %w", err)
		}
		// Unlinked at once: the space is freed however the process ends.
		os.Remove(f.Name())
		s.file = f
	}
	n, err := s.file.Write(p)
	s.fileLen += int64(n)
	if err != nil {
		return n, fmt.Errorf("spill a waiting unit's listing to %s: %w", s.file.Name(), err)
	}
	return n, nil
}

// finish marks the unit complete (err nil) or failed.
func (s *spool) finish(err error) {
	s.mu.Lock()
	if !s.done {
		s.done, s.err = true, err
	}
	s.cond.Broadcast()
	s.mu.Unlock()
}

// abort frees the spool; pending and later writes fail.
func (s *spool) abort() {
	s.mu.Lock()
	s.aborted = true
	s.budget.release(s.memBytes)
	s.mem, s.memBytes, s.pending = nil, 0, 0
	if s.file != nil {
		s.file.Close()
		s.file = nil
	}
	s.cond.Broadcast()
	s.mu.Unlock()
}

// drainTo makes the spool the head of the line and copies its records to w
// until the unit finishes. It returns the unit's own error (unitErr), or
// the error writing to w (werr), and how many bytes it wrote. A unit that
// failed before its turn writes nothing, so only a unit that fails while it
// streams can leave a partial listing in the output.
func (s *spool) drainTo(w io.Writer) (written int64, unitErr, werr error) {
	s.mu.Lock()
	s.attached = true
	if s.done && s.err != nil {
		err := s.err
		s.mu.Unlock()
		s.abort()
		return 0, err, nil
	}
	early, earlyBytes := s.mem, s.memBytes
	s.mem, s.memBytes = nil, 0
	f, flen := s.file, s.fileLen
	s.file = nil
	s.mu.Unlock()

	s.budget.release(earlyBytes)
	for _, c := range early {
		n, err := w.Write(c)
		written += int64(n)
		if err != nil {
			closeFile(f)
			return written, nil, err
		}
	}
	if f != nil {
		_, err := f.Seek(0, io.SeekStart)
		if err == nil {
			var n int64
			n, err = io.CopyN(w, f, flen)
			written += n
		}
		closeFile(f)
		if err != nil {
			return written, nil, fmt.Errorf("copy a spilled listing back: %w", err)
		}
	}
	for {
		s.mu.Lock()
		for len(s.mem) == 0 && !s.done && !s.aborted {
			s.cond.Wait()
		}
		chunks, done, uerr := s.mem, s.done, s.err
		s.mem, s.pending = nil, 0
		s.cond.Broadcast() // room for the lister again
		s.mu.Unlock()
		for _, c := range chunks {
			n, err := w.Write(c)
			written += int64(n)
			if err != nil {
				return written, nil, err
			}
		}
		if done {
			return written, uerr, nil
		}
		if s.aborted {
			return written, errAborted, nil
		}
	}
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}
