package main

import (
	"context"
	"fmt"
	"os"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/lister"
	"github.com/s3pipe/s3pipe/lib/partfile"
	"github.com/s3pipe/s3pipe/lib/partplan"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Failure rule: a unit that still fails after the SDK's retries stops the
// run at that unit. Units before it are written complete, nothing after it
// is written, the error names the unit's line and the process exits 3 (under
// Hadoop the task is retried). Only a unit that was streaming when it failed
// can leave part of its listing in the output, and the error says so.
func run(ctx context.Context, c *CLI, io *stream.IO) error {
	modes := 0
	for _, on := range []bool{c.Units != "", c.PlanParts != 0, c.CheckParts != ""} {
		if on {
			modes++
		}
	}
	switch {
	case modes > 1:
		return stream.Usagef("--units, --plan-parts and --check-parts exclude each other")
	case c.CheckParts != "":
		return checkParts(c, io)
	case c.Bucket == "":
		return stream.Usagef("--bucket is required")
	case c.PlanParts < 0:
		return stream.Usagef("--plan-parts wants a positive number of ranges, got %d", c.PlanParts)
	case c.Units != "" && c.Prefix != "":
		return stream.Usagef("--prefix lists one unit; with --units each line names its own prefix")
	}

	var units []partfile.Unit
	if c.Units != "" {
		var err error
		if units, err = readUnits(c.Units, c.Flags, io); err != nil {
			return err
		}
	} else {
		// The laptop default: the prefix as one unit, everything under it.
		units = []partfile.Unit{{Kind: partfile.Campanile, Prefix: c.Prefix}}
	}

	client, err := s3client.New(ctx, c.Src, c.Tuning)
	if err != nil {
		return stream.Usagef("source: %v", err)
	}
	if c.PlanParts > 0 {
		return planParts(ctx, c, client, io)
	}

	set := counters.New("s3list", lister.CounterNames(c.Versions)...)
	rep := io.Reporter(set, c.Flags, counters.Progress{Records: lister.CounterObjects, Bytes: lister.CounterBytes, Errors: lister.CounterErrors})
	l := &lister.Lister{Client: client, Bucket: c.Bucket, Versions: c.Versions, MaxKeys: c.PageSize}
	err = l.Run(ctx, units, io.Stdout, set, lister.Options{
		Concurrency:   c.Concurrency,
		WaitingMemory: c.WaitingMemory,
		TempDir:       c.TempDir,
	})
	rep.Stop()
	return err
}

// readUnits reads a whole part file before listing, so a bad line fails the
// run before any output (part files are one short line per unit).
func readUnits(name string, f stream.Flags, io *stream.IO) ([]partfile.Unit, error) {
	var r *tsv.Reader
	if name == "-" {
		// io.Input drops Hadoop's byte-offset key in an NLineInputFormat
		// mapper; partfile handles it for both line kinds.
		r = io.Input(f)
	} else {
		file, err := os.Open(name)
		if err != nil {
			return nil, stream.Usagef("part file: %v", err)
		}
		defer file.Close()
		r = tsv.NewReader(file)
		r.Name = name
		if f.MaxLine > 0 {
			r.MaxLine = f.MaxLine
		}
	}
	units, err := partfile.NewReader(r).ReadAll()
	if err != nil {
		return nil, err // a *tsv.ParseError: exit 2 with the line
	}
	return units, nil
}

func planParts(ctx context.Context, c *CLI, client *s3client.Client, io *stream.IO) error {
	units, st, err := partplan.Plan(ctx, client, c.Bucket, c.Prefix, partplan.Options{
		Parts: c.PlanParts, ProbeKeys: c.ProbeKeys, Probes: c.Probes, Concurrency: min(c.Concurrency, 16)})
	if err != nil {
		return fmt.Errorf("plan parts of s3://%s/%s: %w", c.Bucket, c.Prefix, err)
	}
	w := tsv.NewWriter(io.Stdout)
	for _, u := range units {
		partfile.WriteRange(w, u)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write part file: %w", err)
	}
	if !c.Quiet {
		how := fmt.Sprintf("about %.0f keys (estimated)", st.Estimated)
		if st.Exact {
			how = fmt.Sprintf("%d keys (all seen)", st.KeysSeen)
		}
		fmt.Fprintf(io.Stderr, "s3list: planned %d ranges over %s of s3://%s/%s with %d probes\n",
			len(units), how, c.Bucket, c.Prefix, st.Probes)
	}
	return nil
}

func checkParts(c *CLI, io *stream.IO) error {
	units, err := readUnits(c.CheckParts, c.Flags, io)
	if err != nil {
		return err
	}
	name := c.CheckParts
	if name == "-" {
		name = "stdin"
	}
	probs := partplan.Check(units)
	for _, p := range probs {
		fmt.Fprintf(io.Stderr, "s3list: %s: %s\n", name, p)
	}
	if len(probs) > 0 {
		return &stream.InputError{Err: fmt.Errorf("%s: %d problem(s): the part file does not provably list every key exactly once", name, len(probs))}
	}
	fmt.Fprintf(io.Stdout, "%s: %d ranges tile prefix %q exactly once\n", name, len(units), units[0].Prefix)
	return nil
}
