package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/lister"
	"github.com/s3pipe/s3pipe/lib/partfile"
	"github.com/s3pipe/s3pipe/lib/partplan"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Counter names beyond the lister's (group "s3list"). The set is the same in
// every mode (Hadoop caps a job's counters; zero counters are not reported).
// Every input row that is not written is counted: inventory_rows = objects +
// skipped in --inventory mode, events = objects + skipped in --events mode,
// tasks = objects + skipped + gone + errors in batch modes.
const (
	counterInventoryFiles = "inventory_files" // inventory data files read completely
	counterInventoryRows  = "inventory_rows"  // inventory rows parsed
	counterEvents         = "events"          // event records and documents read (created, deleted, test, other, unknown)
	counterDeletes        = "deletes"         // delete events among them
	counterTasks          = "tasks"           // Batch Operations report tasks or manifest lines read
	counterGone           = "gone"            // tasks whose object no longer exists (or is a delete marker)
	counterSkipped        = "skipped"         // input rows dropped by a filter or rule (see docs/REPLICATION.md)
	counterNotInManifest  = "not_in_manifest" // delete markers a Batch Operations manifest cannot hold (--emit batchops-manifest)
)

func counterSet() *counters.Set {
	names := append(lister.CounterNames(true), counterInventoryFiles, counterInventoryRows, counterEvents,
		counterDeletes, counterTasks, counterGone, counterSkipped, counterNotInManifest)
	return counters.New("s3list", names...)
}

func startReporter(set *counters.Set, c *CLI, io *stream.IO) *counters.Reporter {
	return io.Reporter(set, c.Flags, counters.Progress{Records: lister.CounterObjects, Bytes: lister.CounterBytes, Errors: lister.CounterErrors})
}

// Failure rule: a unit that still fails after the SDK's retries stops the
// run at that unit. Units before it are written complete, nothing after it
// is written, the error names the unit's line and the process exits 3 (under
// Hadoop the task is retried). Only a unit that was streaming when it failed
// can leave part of its listing in the output, and the error says so.
func run(ctx context.Context, c *CLI, io *stream.IO) error {
	if err := checkFlags(c); err != nil {
		return err
	}
	switch {
	case c.CheckParts != "":
		return checkParts(c, io)
	case c.Inventory != "":
		return runInventory(ctx, c, io)
	case c.Events != "":
		return runEvents(ctx, c, io)
	case c.BatchReport != "" || c.BatchManifest != "":
		return runBatch(ctx, c, io)
	case c.PlanParts < 0:
		return stream.Usagef("--plan-parts wants a positive number of ranges, got %d", c.PlanParts)
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
	inv, listed := 0, 0
	for _, u := range units {
		if u.Kind == partfile.Inventory {
			inv++
		} else {
			listed++
		}
	}
	switch {
	case listed > 0 && c.Bucket == "":
		return stream.Usagef("--bucket is required")
	case c.Units != "" && c.Prefix != "" && (listed > 0 || inv == 0):
		return stream.Usagef("--prefix lists one unit; with --units each line names its own prefix (with inventory unit lines only, --prefix filters their keys)")
	case inv == 0 && inventoryFiltered(c):
		return stream.Usagef("%s: these flags filter inventory rows; use them with --inventory or inventory unit lines", inventoryFilterFlags(c))
	}

	client, err := s3client.New(ctx, c.Src, c.Tuning)
	if err != nil {
		return stream.Usagef("source: %v", err)
	}
	if c.PlanParts > 0 {
		return planParts(ctx, c, client, io)
	}

	set := counterSet()
	rep := startReporter(set, c, io)
	l := &lister.Lister{Client: client, Bucket: c.Bucket, Versions: c.Versions, MaxKeys: c.PageSize}
	if inv > 0 {
		filter, verify, err := inventoryOptions(c)
		if err != nil {
			rep.Stop()
			return err
		}
		l.Inventory = unitReader(client, filter, verify, set)
	}
	err = listTo(ctx, l, units, c, io, set)
	rep.Stop()
	return err
}

// checkFlags rejects flags that would be ignored in the chosen mode, so a
// typo'd or misplaced filter never silently lets every row through.
func checkFlags(c *CLI) error {
	var modes []string
	for _, m := range []struct {
		on   bool
		name string
	}{
		{c.Units != "", "--units"}, {c.PlanParts != 0, "--plan-parts"}, {c.CheckParts != "", "--check-parts"},
		{c.Inventory != "", "--inventory"}, {c.Events != "", "--events"},
		{c.BatchReport != "", "--batch-report"}, {c.BatchManifest != "", "--batch-manifest"},
	} {
		if m.on {
			modes = append(modes, m.name)
		}
	}
	if len(modes) > 1 {
		return stream.Usagef("%s exclude each other", strings.Join(modes, " and "))
	}
	mode := ""
	if len(modes) == 1 {
		mode = modes[0]
	}
	replication := mode == "--inventory" || mode == "--events" || mode == "--batch-report" || mode == "--batch-manifest"
	manifest := c.Emit == "batchops-manifest"
	switch {
	case c.InventoryUnits && mode != "--inventory":
		return stream.Usagef("--inventory-units needs --inventory")
	case c.InventoryUnits && (inventoryFiltered(c) || c.Prefix != ""):
		given := inventoryFilterFlags(c)
		if c.Prefix != "" {
			given = strings.TrimPrefix(given+" --prefix", " ")
		}
		return stream.Usagef("--inventory-units writes unfiltered units; give %s to the workers that read them (s3list --units)", given)
	case c.InventoryUnits && manifest:
		return stream.Usagef("--inventory-units writes part lines, not a Batch Operations manifest")
	case inventoryFiltered(c) && mode != "--inventory" && mode != "--units" && mode != "":
		return stream.Usagef("%s: these flags filter inventory rows; use them with --inventory or inventory unit lines", inventoryFilterFlags(c))
	case eventFlagged(c) && mode != "--events":
		return stream.Usagef("--events-* flags need --events")
	case c.BatchReportAll && mode != "--batch-report":
		return stream.Usagef("--batch-report-all needs --batch-report")
	case c.BatchRawKeys && mode != "--batch-report":
		return stream.Usagef("--batch-raw-keys needs --batch-report (manifest keys are always URL-encoded)")
	case c.BatchopsVersions && !manifest:
		return stream.Usagef("--batchops-versions needs --emit batchops-manifest")
	case manifest && (mode == "--plan-parts" || mode == "--check-parts"):
		return stream.Usagef("--emit applies to object records, not to %s", mode)
	case c.Versions && replication:
		return stream.Usagef("--versions applies to listing; %s records carry their own version ids", mode)
	case c.Prefix != "" && (mode == "--events" || mode == "--batch-report" || mode == "--batch-manifest"):
		return stream.Usagef("--prefix does not apply to %s", mode)
	}
	return nil
}

func eventFlagged(c *CLI) bool {
	e := c.EventFlags
	return e.EventsDeletes || e.EventsLatest || e.EventsMaxKeys != 1_000_000 || e.EventsRawEventbridgeKeys || e.EventsIgnoreUnknown
}

// listTo lists units to stdout as records or, with --emit
// batchops-manifest, as manifest lines: the lister writes records into a pipe
// and this goroutine re-reads them (the lister's ordered, spilling output is
// built on encoded records).
func listTo(ctx context.Context, l *lister.Lister, units []partfile.Unit, c *CLI, io *stream.IO, set *counters.Set) error {
	opt := lister.Options{Concurrency: c.Concurrency, WaitingMemory: c.WaitingMemory, TempDir: c.TempDir}
	if c.Emit != "batchops-manifest" {
		return l.Run(ctx, units, io.Stdout, set, opt)
	}
	return throughManifest(io.Stdout, c, set, func(w *pipeWriter) error { return l.Run(ctx, units, w, set, opt) })
}

// readUnits reads a whole part file before listing, so a bad line fails the
// run before any output (part files are one short line per unit).
func readUnits(name string, f stream.Flags, io *stream.IO) ([]partfile.Unit, error) {
	var r *tsv.Reader
	if name == "-" {
		// io.Input drops Hadoop's byte-offset key in an NLineInputFormat
		// mapper; partfile handles it for every line kind.
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
