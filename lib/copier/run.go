package copier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Run reads plan rows, copies them with up to workers at once, and writes
// one result row per plan row (in completion order) through one writer.
func Run(ctx context.Context, cp *Copier, in *tsv.Reader, out io.Writer, workers int) error {
	return runPlanRows(ctx, in, out, workers, nil, func(ctx context.Context, g []record.Plan) ([]record.Result, error) {
		r, err := cp.Copy(ctx, &g[0])
		return []record.Result{r}, err
	})
}

// runPlanRows is the loop of Run and RunGroups: it reads plan rows, gathers
// consecutive rows that join (nil: every row alone) into groups, copies the
// groups on a fixed set of workers, and writes every result row through one
// writer.
func runPlanRows(ctx context.Context, in *tsv.Reader, out io.Writer, workers int,
	join func(group []record.Plan, p *record.Plan) bool,
	copyGroup func(context.Context, []record.Plan) ([]record.Result, error)) error {
	w := tsv.NewWriter(out)
	results := make(chan record.Result, workers)
	// Copies run under their own context: SIGINT (ctx) and a fatal error
	// (stop) both cancel them, and both still write their rows.
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	var fatalOnce sync.Once
	var fatal error
	failed := 0
	var werr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range results {
			if r.Status == record.StatusFailed {
				failed++
			}
			if werr != nil {
				continue
			}
			if err := r.Write(w); err != nil {
				werr = err
				stop()
				continue
			}
			// Flush whenever no other result is waiting: downstream
			// s3mpdone completes uploads as their parts arrive, and a
			// killed s3copy must not take finished rows with it.
			if len(results) == 0 {
				if err := w.Flush(); err != nil {
					werr = err
					stop()
				}
			}
		}
	}()
	// A fixed set of workers, not a goroutine per row: a copy runs deep in
	// the SDK's middleware stack, and a fresh goroutine would grow its
	// stack again for every row (runtime.copystack was a tenth of
	// s3copy's CPU on small objects).
	jobs := make(chan []record.Plan)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for g := range jobs {
				rs, err := copyGroup(cctx, g)
				var fe *Fatal
				if errors.As(err, &fe) {
					fatalOnce.Do(func() { fatal = fe; stop() })
				}
				for _, r := range rs {
					results <- r
				}
			}
		})
	}
	var inErr error
	var group []record.Plan
	for cctx.Err() == nil {
		f, err := in.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			inErr = err
			break
		}
		var p record.Plan
		if err := record.ParsePlan(f, &p); err != nil {
			inErr = record.AtLine(in, err)
			break
		}
		if join == nil {
			// Workers take every row sent (after a cancel they finish it
			// at once as Interrupted), so this send cannot block forever.
			jobs <- []record.Plan{p}
			continue
		}
		if len(group) > 0 && !join(group, &p) {
			jobs <- group
			group = nil
		}
		group = append(group, p)
	}
	if len(group) > 0 {
		// Rows read are always sent: after a cancel the workers finish
		// them at once as Interrupted, so each still gets its row.
		jobs <- group
	}
	close(jobs)
	wg.Wait()
	close(results)
	<-done
	if err := w.Flush(); err != nil && werr == nil {
		werr = err
	}
	switch {
	case werr != nil:
		return fmt.Errorf("write results: %w", werr)
	case fatal != nil:
		return fatal
	case ctx.Err() != nil:
		return ctx.Err()
	case inErr != nil:
		var pe *tsv.ParseError
		if errors.As(inErr, &pe) {
			return inErr
		}
		return &stream.InputError{Err: fmt.Errorf("read plan rows: %w", inErr)}
	case failed > 0:
		return fmt.Errorf("%d rows failed: %w", failed, stream.ErrSomeFailed)
	}
	return nil
}
