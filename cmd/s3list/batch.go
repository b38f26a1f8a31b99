package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/s3pipe/s3pipe/lib/batchops"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/inventory"
	"github.com/s3pipe/s3pipe/lib/lister"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3err"
	"github.com/s3pipe/s3pipe/lib/stream"
)

// task is one object a report or manifest names.
type task struct{ bucket, key, versionID string }

// runBatch reads a completion report or a manifest and HEADs each task's
// object for the ETag and size s3pipe's copy tools pin every copy to.
func runBatch(ctx context.Context, c *CLI, sio *stream.IO) error {
	lc := &lazyClient{c: c}
	client, err := lc.get(ctx)
	if err != nil {
		return err
	}
	set := counterSet()
	rep := startReporter(set, c, sio)
	tasks := set.Counter(counterTasks)
	skipped := set.Counter(counterSkipped)
	var produce func(fn func(task) error) error
	if c.BatchReport != "" {
		produce = func(fn func(task) error) error {
			return readReport(ctx, c, sio, lc, func(t *batchops.Task) error {
				tasks.Add(1)
				if !c.BatchReportAll && !t.Failed() {
					skipped.Add(1)
					return nil
				}
				return fn(task{t.Bucket, t.Key, t.VersionID})
			})
		}
	} else {
		produce = func(fn func(task) error) error {
			return readManifest(ctx, c.BatchManifest, sio, lc, func(e batchops.Entry) error {
				tasks.Add(1)
				return fn(task{e.Bucket, e.Key, e.VersionID})
			})
		}
	}
	out := newOutput(sio.Stdout, c, set, true)
	err = resolveAll(ctx, client, c.Concurrency, produce, out, set, rep)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	rep.Stop()
	return classify(err)
}

// openInput opens FILE, '-' (stdin) or s3://BUCKET/KEY.
func openInput(ctx context.Context, name string, sio *stream.IO, lc *lazyClient) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(sio.Stdin), nil
	}
	b, k, isS3, err := parseS3URL(name)
	if err != nil {
		return nil, err
	}
	if !isS3 {
		f, err := os.Open(name)
		if err != nil {
			return nil, stream.Usagef("%v", err)
		}
		return f, nil
	}
	client, err := lc.get(ctx)
	if err != nil {
		return nil, err
	}
	return markedFetcher{inventory.S3Fetcher{Client: client}}.Open(ctx, b, k)
}

// readReport reads a completion report: its manifest.json (a name ending in
// .json; each result file MD5-checked before its rows are read) or one
// result CSV file. Without --batch-report-all only the result files of
// failed tasks are read: the others hold no failed task.
func readReport(ctx context.Context, c *CLI, sio *stream.IO, lc *lazyClient, fn func(*batchops.Task) error) error {
	name := c.BatchReport
	if !strings.HasSuffix(name, ".json") {
		body, err := openInput(ctx, name, sio, lc)
		if err != nil {
			return fmt.Errorf("completion report %s: %w", name, err)
		}
		defer body.Close()
		rr := batchops.NewReportReader(body)
		rr.RawKeys = c.BatchRawKeys
		for {
			t, err := rr.Read()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", inputName(name), err)
			}
			if err := fn(t); err != nil {
				return err
			}
		}
	}
	body, f, _, err := openManifest(ctx, name, lc)
	if err != nil {
		return fmt.Errorf("completion report manifest %s: %w", name, err)
	}
	m, err := batchops.ParseReportManifest(body)
	body.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for _, res := range m.Results {
		if !c.BatchReportAll && !strings.EqualFold(res.TaskExecutionStatus, "failed") {
			continue
		}
		// One file at a time, every row to fn: fn counts the rows it skips.
		one := &batchops.ReportManifest{Format: m.Format, Results: []batchops.ReportResult{res}}
		if err := batchops.ReadResults(ctx, f, one, false, c.BatchRawKeys, fn); err != nil {
			return err
		}
	}
	return nil
}

func readManifest(ctx context.Context, name string, sio *stream.IO, lc *lazyClient, fn func(batchops.Entry) error) error {
	body, err := openInput(ctx, name, sio, lc)
	if err != nil {
		return fmt.Errorf("batch manifest %s: %w", name, err)
	}
	defer body.Close()
	mr := batchops.NewManifestReader(body)
	for {
		e, err := mr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", inputName(name), err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

// slot is one task's place in the output order.
type slot struct {
	t    task
	o    record.Object
	err  error
	done chan struct{}
}

// resolveAll HEADs the tasks produce yields, concurrency at a time, and
// writes their records in input order. An object that is gone is counted;
// another per-object failure is counted, printed and makes the run fail at
// the end (the output still holds every other task); a fatal one stops it.
func resolveAll(ctx context.Context, client s3.HeadObjectAPIClient, concurrency int, produce func(func(task) error) error,
	out *output, set *counters.Set, rep *counters.Reporter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	concurrency = max(concurrency, 1)
	order := make(chan *slot, 2*concurrency)
	var perr error
	go func() {
		defer close(order)
		var heads errgroup.Group
		heads.SetLimit(concurrency)
		perr = produce(func(t task) error {
			s := &slot{t: t, done: make(chan struct{})}
			select {
			case order <- s:
			case <-ctx.Done():
				return ctx.Err()
			}
			heads.Go(func() error {
				defer close(s.done)
				s.err = batchops.Resolve(ctx, client, t.bucket, t.key, t.versionID, &s.o)
				return nil
			})
			return nil
		})
		heads.Wait()
	}()
	gone, failed := set.Counter(counterGone), set.Counter(lister.CounterErrors)
	var werr error
	for s := range order {
		<-s.done
		if werr != nil {
			continue // drain: let the producer finish
		}
		switch {
		case s.err == nil:
			if err := out.Write(&s.o); err != nil {
				werr = err
				cancel()
			}
		case errors.Is(s.err, batchops.ErrGone):
			gone.Add(1)
		case ctx.Err() != nil || s3err.Classify(s.err) == s3err.Fatal:
			werr = &fetchError{s.err}
			cancel()
		default:
			failed.Add(1)
			rep.Printf("s3list: skipped: HEAD of key %q in bucket %s (version %q): %s: %s", s.t.key, s.t.bucket, s.t.versionID,
				s3err.Code(s.err), s3err.Message(s.err))
		}
	}
	switch {
	case werr != nil:
		return werr
	case perr != nil:
		return perr
	case failed.Load() > 0:
		return &fetchError{fmt.Errorf("%d task(s) could not be resolved (HEAD failed, messages above); the output holds every other task", failed.Load())}
	}
	return nil
}

// inputName names an input in errors ("-" is stdin).
func inputName(name string) string {
	if name == "-" {
		return "stdin"
	}
	return name
}
