package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/inventory"
	"github.com/s3pipe/s3pipe/lib/lister"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

func inventoryFiltered(c *CLI) bool {
	return inventoryFilterFlags(c) != ""
}

// inventoryFilterFlags names the inventory filter flags given.
func inventoryFilterFlags(c *CLI) string {
	var on []string
	f := c.InventoryFlags
	for _, x := range []struct {
		set  bool
		name string
	}{
		{f.ReplicationStatus != "", "--replication-status"}, {f.StorageClass != "", "--storage-class"},
		{f.LatestOnly, "--latest-only"}, {f.SkipDeleteMarkers, "--skip-delete-markers"},
		{f.InventoryVerify != "first" && f.InventoryVerify != "", "--inventory-verify"},
	} {
		if x.set {
			on = append(on, x.name)
		}
	}
	return strings.Join(on, " ")
}

func inventoryOptions(c *CLI) (inventory.Filter, inventory.Verify, error) {
	f := inventory.Filter{Prefix: c.Prefix, LatestOnly: c.LatestOnly, SkipDeleteMarkers: c.SkipDeleteMarkers}
	if c.ReplicationStatus != "" {
		f.ReplicationStatus = inventory.ParseStatusList(c.ReplicationStatus)
	}
	if c.StorageClass != "" {
		for _, s := range strings.Split(c.StorageClass, ",") {
			if s = strings.TrimSpace(s); s == "" {
				return f, 0, stream.Usagef("--storage-class %q: empty storage class", c.StorageClass)
			}
			f.StorageClasses = append(f.StorageClasses, s)
		}
	}
	v, err := inventory.ParseVerify(c.InventoryVerify)
	if err != nil {
		return f, 0, stream.Usagef("--inventory-verify: %v", err)
	}
	return f, v, nil
}

// parseS3URL splits s3://BUCKET/KEY.
func parseS3URL(s string) (bucket, key string, ok bool, err error) {
	rest, found := strings.CutPrefix(s, "s3://")
	if !found {
		return "", "", false, nil
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" || key == "" {
		return "", "", true, stream.Usagef("%q: want s3://BUCKET/KEY", s)
	}
	return bucket, key, true, nil
}

// fetchError marks a failure to read an object of S3 (or a local file) as
// opposed to bad content: the first is fatal (exit 3), the second bad input
// (exit 2).
type fetchError struct{ err error }

func (e *fetchError) Error() string { return e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

// markedFetcher wraps a Fetcher so that its errors, and the read errors of
// the bodies it opens, are *fetchError.
type markedFetcher struct{ f inventory.Fetcher }

func (m markedFetcher) Open(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	body, err := m.f.Open(ctx, bucket, key)
	if err != nil {
		return nil, &fetchError{err}
	}
	return markedBody{body}, nil
}

type markedBody struct{ io.ReadCloser }

func (b markedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = &fetchError{err}
	}
	return n, err
}

// classify maps an error of a reader of inventories or reports: fetch and
// output failures and interruptions pass as they are (fatal, or exit 130),
// everything else is bad input (a corrupt data file, a malformed row).
func classify(err error) error {
	var fe *fetchError
	var oe *outputError
	var ie *stream.InputError
	var ue *stream.UsageError
	if err == nil || errors.As(err, &fe) || errors.As(err, &oe) || errors.As(err, &ie) || errors.As(err, &ue) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &stream.InputError{Err: err}
}

// lazyClient makes the source client on first use: a local manifest of
// local files needs no AWS configuration.
type lazyClient struct {
	c      *CLI
	client *s3client.Client
}

func (l *lazyClient) get(ctx context.Context) (*s3client.Client, error) {
	if l.client == nil {
		c, err := s3client.New(ctx, l.c.Src, l.c.Tuning)
		if err != nil {
			return nil, stream.Usagef("source: %v", err)
		}
		l.client = c
	}
	return l.client, nil
}

// openManifest opens a manifest.json (local or s3://) and returns it with a
// fetcher for the files it lists: the manifest's bucket for s3://, the
// manifest's directory for a local file (DirFetcher looks below it and its
// parents). bucket is "" for a local file.
func openManifest(ctx context.Context, name string, lc *lazyClient) (body io.ReadCloser, f inventory.Fetcher, bucket string, err error) {
	b, k, isS3, err := parseS3URL(name)
	if err != nil {
		return nil, nil, "", err
	}
	if !isS3 {
		file, err := os.Open(name)
		if err != nil {
			return nil, nil, "", stream.Usagef("%v", err)
		}
		return file, markedFetcher{inventory.DirFetcher{Dir: filepath.Dir(name)}}, "", nil
	}
	client, err := lc.get(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	f = markedFetcher{inventory.S3Fetcher{Client: client}}
	body, err = f.Open(ctx, b, k)
	if err != nil {
		return nil, nil, "", err
	}
	return body, f, b, nil
}

func runInventory(ctx context.Context, c *CLI, io *stream.IO) error {
	filter, verify, err := inventoryOptions(c)
	if err != nil {
		return err
	}
	body, fetcher, bucket, err := openManifest(ctx, c.Inventory, &lazyClient{c: c})
	if err != nil {
		return fmt.Errorf("inventory manifest %s: %w", c.Inventory, err)
	}
	m, err := inventory.ParseManifest(body)
	body.Close()
	if err != nil {
		return classify(fmt.Errorf("%s: %w", c.Inventory, err))
	}
	if bucket == "" {
		bucket = m.DataBucket()
	}
	if c.InventoryUnits {
		w := tsv.NewWriter(io.Stdout)
		for _, u := range inventory.Units(m, bucket) {
			u.Write(w)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write inventory units: %w", err)
		}
		return nil
	}

	set := counterSet()
	rep := startReporter(set, c, io)
	out := newOutput(io.Stdout, c, set, true)
	r := &inventory.Reader{Fetcher: fetcher, Bucket: bucket, Filter: filter, Verify: verify}
	st := newStatsSync(set)
	err = r.ReadAll(ctx, m, func(o *record.Object) error {
		st.maybe(&r.Stats)
		return out.Write(o)
	})
	st.add(&r.Stats)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	rep.Stop()
	return classify(err)
}

// unitReader reads inventory unit lines for the lister: one Reader per
// unit (so per worker at a time), its Stats added to the counters.
func unitReader(client *s3client.Client, filter inventory.Filter, verify inventory.Verify, set *counters.Set) func(context.Context, inventory.Unit, lister.Emit) error {
	fetcher := inventory.S3Fetcher{Client: client}
	return func(ctx context.Context, u inventory.Unit, emit lister.Emit) error {
		r := &inventory.Reader{Fetcher: fetcher, Filter: filter, Verify: verify}
		st := newStatsSync(set)
		err := r.ReadUnit(ctx, u, func(o *record.Object) error {
			st.maybe(&r.Stats)
			return emit(o)
		})
		st.add(&r.Stats)
		return err
	}
}

// statsSync adds an inventory.Reader's Stats to the counters as they grow.
// It runs on the reader's goroutine (Stats are not safe to read elsewhere).
type statsSync struct {
	files, rows, skipped *atomic.Int64
	last                 inventory.Stats
	n                    int
}

func newStatsSync(set *counters.Set) *statsSync {
	return &statsSync{files: set.Counter(counterInventoryFiles), rows: set.Counter(counterInventoryRows),
		skipped: set.Counter(counterSkipped)}
}

func (s *statsSync) maybe(st *inventory.Stats) {
	if s.n++; s.n%4096 == 0 {
		s.add(st)
	}
}

func (s *statsSync) add(st *inventory.Stats) {
	s.files.Add(st.Files - s.last.Files)
	s.rows.Add(st.Rows - s.last.Rows)
	s.skipped.Add(skippedRows(st) - skippedRows(&s.last))
	s.last = *st
}

func skippedRows(st *inventory.Stats) int64 {
	return st.SkippedPrefix + st.SkippedNotLatest + st.SkippedDeleteMarker + st.SkippedReplication + st.SkippedStorageClass
}
