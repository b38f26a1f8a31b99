package main

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/s3pipe/s3pipe/lib/batchops"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/lister"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// output is the one writer of stdout in the modes that produce records
// themselves (inventory, events, batch): object records, or a Batch
// Operations manifest with --emit batchops-manifest.
type output struct {
	tw *tsv.Writer
	mw *batchops.ManifestWriter
	// objects and bytes count records handed to the output (nil when the
	// lister counts them); notInManifest counts delete markers the manifest
	// leaves out.
	objects, bytes, notInManifest *atomic.Int64
}

// outputError marks a failure to write stdout, so that callers do not
// mistake it for bad input.
type outputError struct{ err error }

func (e *outputError) Error() string { return "write output: " + e.err.Error() }
func (e *outputError) Unwrap() error { return e.err }

func newOutput(w io.Writer, c *CLI, set *counters.Set, count bool) *output {
	o := &output{notInManifest: set.Counter(counterNotInManifest)}
	if count {
		o.objects, o.bytes = set.Counter(lister.CounterObjects), set.Counter(lister.CounterBytes)
	}
	if c.Emit == "batchops-manifest" {
		o.mw = batchops.NewManifestWriter(w, c.BatchopsVersions, c.Bucket)
	} else {
		o.tw = tsv.NewWriter(w)
	}
	return o
}

// Write writes one record. A record the manifest cannot hold for want of a
// bucket or version id is bad input (exit 2); a failed write of stdout is
// an *outputError.
func (o *output) Write(r *record.Object) error {
	if o.objects != nil {
		o.objects.Add(1)
		o.bytes.Add(r.Size)
	}
	if o.tw != nil {
		if err := r.Write(o.tw); err != nil {
			return &outputError{err}
		}
		return nil
	}
	skipped := o.mw.SkippedDeleteMarkers
	if err := o.mw.Write(r); err != nil {
		if o.mw.Flush() != nil {
			return &outputError{err}
		}
		return &stream.InputError{Err: err}
	}
	if o.mw.SkippedDeleteMarkers != skipped {
		o.notInManifest.Add(1)
	}
	return nil
}

// Flush writes out what is buffered.
func (o *output) Flush() error {
	var err error
	if o.tw != nil {
		err = o.tw.Flush()
	} else {
		err = o.mw.Flush()
	}
	if err != nil {
		return &outputError{err}
	}
	return nil
}

// pipeWriter is where the lister writes its records when they are re-read
// as manifest lines.
type pipeWriter = io.PipeWriter

// throughManifest runs produce, which writes encoded object records into a
// pipe, and writes them to w as Batch Operations manifest lines.
func throughManifest(w io.Writer, c *CLI, set *counters.Set, produce func(*pipeWriter) error) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := produce(pw)
		pw.CloseWithError(err) // nil: the reader sees EOF
		done <- err
	}()
	out := newOutput(w, c, set, false)
	cerr := func() error {
		r := tsv.NewReader(pr)
		r.Name = "listing"
		var o record.Object
		for {
			f, err := r.Read()
			if err == io.EOF {
				return out.Flush()
			}
			if err != nil {
				return err
			}
			if err := record.ParseObject(f, &o); err != nil {
				return fmt.Errorf("re-read listing: %w", record.AtLine(r, err))
			}
			if err := out.Write(&o); err != nil {
				return err
			}
		}
	}()
	if cerr != nil {
		pr.CloseWithError(cerr) // stops the producer's next write
	}
	perr := <-done
	switch {
	case perr == nil:
		return cerr
	case cerr != nil && errors.Is(perr, cerr):
		return cerr // the producer stopped because the manifest side failed
	}
	return perr
}
