package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"

	"github.com/s3pipe/s3pipe/lib/complete"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

func run(ctx context.Context, c *CLI, sio *stream.IO) error {
	if c.Cleanup {
		if c.Bucket == "" {
			return stream.Usagef("--cleanup needs --bucket")
		}
		if c.OlderThan < 0 {
			return stream.Usagef("--older-than must not be negative")
		}
	} else if c.Bucket != "" || c.Prefix != "" || c.DryRun {
		return stream.Usagef("--bucket, --prefix and --dry-run belong to --cleanup mode")
	}
	out, err := openOutput(c, sio.Stdout)
	if err != nil {
		return err
	}
	set := complete.NewCounters()
	prog := counters.Progress{Records: complete.CounterObjects, Bytes: complete.CounterBytes, Errors: complete.CounterFailed}
	if c.Cleanup {
		prog = counters.Progress{Records: complete.CounterListed, Errors: complete.CounterFailed}
	}
	rep := sio.Reporter(set, c.Flags, prog)
	err = work(ctx, c, sio, set, out.w)
	rep.Stop()
	if cerr := out.close(err == nil || errors.Is(err, stream.ErrSomeFailed)); err == nil {
		err = cerr
	}
	return err
}

func work(ctx context.Context, c *CLI, sio *stream.IO, set *counters.Set, w *tsv.Writer) error {
	client, err := s3client.New(ctx, c.Dst, c.Tuning)
	if err != nil {
		return stream.Usagef("destination: %v", err)
	}
	if c.Cleanup {
		failed, err := complete.Cleanup(ctx, client, complete.CleanupOptions{Bucket: c.Bucket, Prefix: c.Prefix,
			OlderThan: c.OlderThan, DryRun: c.DryRun, Concurrency: c.Concurrency}, set,
			func(r *complete.CleanupRow) error { return r.Write(w) })
		if err == nil && failed > 0 {
			err = stream.ErrSomeFailed
		}
		return err
	}
	api, err := c.Fanout.api(ctx, client, c.Tuning)
	if err != nil {
		return err
	}
	comp := complete.New(ctx, api, complete.Options{KeepFailedUploads: c.KeepFailedUploads,
		AbortIncomplete: c.AbortIncomplete, Concurrency: c.Concurrency}, set,
		func(r *record.Report) error { return r.Write(w) })
	in := sio.Input(c.Flags)
	var res record.Result
	for {
		if ctx.Err() != nil {
			return comp.Finish() // records the work in flight; returns ctx's error
		}
		f, err := in.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			comp.Finish()
			return readErr(err)
		}
		if err := record.ParseResult(f, &res); err != nil {
			comp.Finish()
			return record.AtLine(in, err)
		}
		if err := comp.Add(&res); err != nil {
			if errors.Is(err, complete.ErrInput) {
				comp.Finish()
				return in.Error(0, err)
			}
			if ctx.Err() != nil {
				return comp.Finish() // records the work in flight; returns ctx's error
			}
			return err
		}
	}
	if err := comp.Finish(); err != nil {
		return err
	}
	if comp.Failed() {
		return stream.ErrSomeFailed
	}
	return nil
}

func readErr(err error) error {
	var pe *tsv.ParseError
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("read stdin: %w", err)
}

// output is the report's destination: stdout or a file written under a
// temporary name and renamed once complete, optionally gzip-compressed.
type output struct {
	w    *tsv.Writer
	gz   *gzip.Writer
	file *os.File
	path string
}

func openOutput(c *CLI, stdout io.Writer) (*output, error) {
	o := &output{}
	var dst io.Writer = stdout
	if c.Output != "" && c.Output != "-" {
		f, err := os.Create(c.Output + ".tmp")
		if err != nil {
			return nil, stream.Usagef("report file: %v", err)
		}
		o.file, o.path, dst = f, c.Output, f
	}
	if c.Gzip {
		o.gz = gzip.NewWriter(dst)
		dst = o.gz
	}
	o.w = tsv.NewWriter(dst) // buffered
	return o, nil
}

// close flushes everything; keep renames the file into place (a fatal run
// leaves FILE.tmp behind for inspection, never a truncated FILE).
func (o *output) close(keep bool) error {
	err := o.w.Flush()
	if o.gz != nil {
		if cerr := o.gz.Close(); err == nil {
			err = cerr
		}
	}
	if o.file == nil {
		if err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	}
	if cerr := o.file.Close(); err == nil {
		err = cerr
	}
	if err == nil && keep {
		err = os.Rename(o.path+".tmp", o.path)
	}
	if err != nil {
		return fmt.Errorf("write report %s: %w", o.path, err)
	}
	return nil
}
