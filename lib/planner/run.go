package planner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// ParseSize reads a byte count: a number with an optional unit (B, KiB,
// MiB, GiB, TiB, or KB, MB, GB, TB as powers of 1000).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30,
		"t": 1 << 40, "tib": 1 << 40, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}[unit]
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || f < 0 {
		return 0, fmt.Errorf("%q: want a size like 64MiB", s)
	}
	return int64(f * mult), nil
}

// readInput decodes one line: an object row (9 columns) or a report row
// (15 columns), told apart by the column count.
func readInput(in *tsv.Reader) (*Input, error) {
	f, err := in.Read()
	if err != nil {
		return nil, err
	}
	var x Input
	switch len(f) {
	case record.ObjectColumns:
		err = record.ParseObject(f, &x.Obj)
	case record.ReportColumns:
		var r record.Report
		if err = record.ParseReport(f, &r); err == nil {
			x.Obj, x.Report = r.Object(), &r
		}
	default:
		return nil, in.Error(0, fmt.Errorf("%w: got %d, want %d (object) or %d (report)", tsv.ErrFieldCount, len(f), record.ObjectColumns, record.ReportColumns))
	}
	if err != nil {
		return nil, record.AtLine(in, err)
	}
	return &x, nil
}

// slot is one input row in flight; rows are written in input order.
type slot struct {
	done chan struct{}
	rows []record.Plan
	err  error
}

// PlanAll plans every input row with up to window objects in flight, and
// writes their plan rows in input order, so the output is deterministic.
func PlanAll(ctx context.Context, pl *Planner, in *tsv.Reader, out io.Writer, window int) error {
	w := tsv.NewWriter(out)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	order := make(chan *slot, window)
	var inErr error
	go func() {
		defer close(order)
		for ctx.Err() == nil {
			x, err := readInput(in)
			if err == io.EOF {
				return
			}
			if err != nil {
				inErr = err
				return
			}
			s := &slot{done: make(chan struct{})}
			select {
			case order <- s:
			case <-ctx.Done():
				return
			}
			go func() {
				defer close(s.done)
				s.rows, s.err = pl.PlanDests(ctx, x)
			}()
		}
	}()
	var runErr error
	for s := range order {
		select {
		case <-s.done:
		default:
			// Flush before blocking, so s3copy downstream starts on the
			// rows planned so far instead of waiting for a full buffer.
			if runErr == nil {
				if err := w.Flush(); err != nil {
					runErr = fmt.Errorf("write plan rows: %w", err)
					cancel()
				}
			}
			<-s.done
		}
		if runErr != nil {
			continue
		}
		if s.err != nil {
			runErr = s.err
			cancel()
			continue
		}
		for i := range s.rows {
			if err := s.rows[i].Write(w); err != nil {
				runErr = fmt.Errorf("write plan rows: %w", err)
				cancel()
				break
			}
		}
	}
	if err := w.Flush(); err != nil && runErr == nil {
		runErr = fmt.Errorf("write plan rows: %w", err)
	}
	switch {
	case runErr != nil:
		if errors.Is(runErr, context.Canceled) && ctx.Err() != nil {
			return context.Canceled
		}
		return runErr
	case inErr != nil:
		var pe *tsv.ParseError
		if errors.As(inErr, &pe) {
			return inErr
		}
		return &stream.InputError{Err: fmt.Errorf("read input rows: %w", inErr)}
	}
	// Objects that could not be planned have their fail rows: that is not
	// a process error (s3mpdone reports them).
	return nil
}
