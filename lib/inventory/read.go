package inventory

import (
	"context"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/s3pipe/s3pipe/lib/record"
)

// Verify says when a data file's MD5 is checked against the manifest.
type Verify int

const (
	// VerifyFirst reads each data file twice: once through MD5 (compressed
	// bytes only, no parsing), then again to parse it. No row of a corrupt
	// file is ever emitted. The cost is a second GET per data file, which is
	// cheap next to the objects the rows will copy. The default.
	VerifyFirst Verify = iota
	// VerifyStream parses while hashing and fails at the end of a data file
	// whose MD5 does not match, after its rows were emitted. Use it only when
	// the caller discards all output on error (a failed task whose output
	// Hadoop throws away, a pipeline that aborts).
	VerifyStream
	// VerifyNone skips the check (gzip's own CRC still guards the data).
	VerifyNone
)

// ParseVerify maps a flag value (first, stream, none) to a Verify.
func ParseVerify(s string) (Verify, error) {
	switch s {
	case "first", "":
		return VerifyFirst, nil
	case "stream":
		return VerifyStream, nil
	case "none":
		return VerifyNone, nil
	}
	return 0, fmt.Errorf("unknown verify mode %q (want first, stream or none)", s)
}

// Filter selects inventory rows. The zero Filter keeps every row.
type Filter struct {
	// ReplicationStatus keeps rows whose ReplicationStatus is one of these
	// (case-insensitive); "" matches an empty status (objects replication
	// never touched). Nil keeps all.
	ReplicationStatus []string
	// StorageClasses keeps rows of these storage classes; nil keeps all.
	StorageClasses []string
	// Prefix keeps keys that start with it (on the decoded key).
	Prefix string
	// LatestOnly drops rows whose IsLatest is false (rows of a report without
	// versions have no IsLatest and are all current).
	LatestOnly bool
	// SkipDeleteMarkers drops delete-marker rows.
	SkipDeleteMarkers bool
}

// ParseStatusList parses a comma-separated replication status list as a flag
// gives it: "NONE" (any case) or an empty element stands for the empty status,
// so "NONE,FAILED" selects what replication never copied.
func ParseStatusList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(v)
		if strings.EqualFold(v, "NONE") {
			v = ""
		}
		out = append(out, strings.ToUpper(v))
	}
	return out
}

func (f *Filter) check(sc Schema) error {
	if f.ReplicationStatus != nil && sc.ReplicationStatus < 0 {
		return errors.New("filtering on replication status needs the ReplicationStatus field, which this inventory does not include")
	}
	if f.StorageClasses != nil && sc.StorageClass < 0 {
		return errors.New("filtering on storage class needs the StorageClass field, which this inventory does not include")
	}
	return nil
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// Stats counts what a Reader did. Every row that is not emitted is counted
// under the reason it was dropped.
type Stats struct {
	Files               int64 // data files read
	Bytes               int64 // compressed bytes parsed
	Rows                int64 // rows parsed
	Emitted             int64
	SkippedPrefix       int64
	SkippedNotLatest    int64
	SkippedDeleteMarker int64
	SkippedReplication  int64
	SkippedStorageClass int64
}

// Reader reads data files of one inventory report. It is not safe for
// concurrent use; use one Reader per worker and add up their Stats.
type Reader struct {
	Fetcher Fetcher
	Bucket  string // bucket of the data files
	Filter  Filter
	Verify  Verify
	Stats   Stats
}

// ReadAll reads every data file of m in manifest order and calls emit for
// each selected row. The Object passed to emit is reused between calls.
func (r *Reader) ReadAll(ctx context.Context, m *Manifest, emit func(*record.Object) error) error {
	for _, f := range m.Files {
		if err := r.ReadFile(ctx, m.Schema, f, emit); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reader) name(f File) string { return "s3://" + r.Bucket + "/" + f.Key }

// VerifyFile reads one data file through MD5 and checks size and checksum
// against the manifest.
func (r *Reader) VerifyFile(ctx context.Context, f File) error {
	body, err := r.Fetcher.Open(ctx, r.Bucket, f.Key)
	if err != nil {
		return fmt.Errorf("open inventory data file %s: %w", r.name(f), err)
	}
	defer body.Close()
	h := md5.New()
	n, err := io.Copy(h, body)
	if err != nil {
		return fmt.Errorf("read inventory data file %s: %w", r.name(f), err)
	}
	return r.compare(f, n, h)
}

func (r *Reader) compare(f File, n int64, h hash.Hash) error {
	if f.Size > 0 && n != f.Size {
		return fmt.Errorf("inventory data file %s: %d bytes, manifest says %d (truncated or replaced)", r.name(f), n, f.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, f.MD5Checksum) {
		return fmt.Errorf("inventory data file %s: MD5 %s, manifest says %s (corrupt or replaced)", r.name(f), got, f.MD5Checksum)
	}
	return nil
}

// ReadFile reads one data file (verified as r.Verify says) and calls emit
// for each selected row.
func (r *Reader) ReadFile(ctx context.Context, sc Schema, f File, emit func(*record.Object) error) error {
	if err := r.Filter.check(sc); err != nil {
		return err
	}
	if r.Verify == VerifyFirst {
		if err := r.VerifyFile(ctx, f); err != nil {
			return err
		}
	}
	body, err := r.Fetcher.Open(ctx, r.Bucket, f.Key)
	if err != nil {
		return fmt.Errorf("open inventory data file %s: %w", r.name(f), err)
	}
	defer body.Close()
	cr := &countingReader{r: body}
	var src io.Reader = cr
	var h hash.Hash
	if r.Verify == VerifyStream {
		h = md5.New()
		src = io.TeeReader(cr, h)
	}
	gz, err := gzip.NewReader(src)
	if err != nil {
		return fmt.Errorf("inventory data file %s: not gzip: %w", r.name(f), err)
	}
	defer gz.Close()
	if err := r.parse(ctx, sc, gz, f, emit); err != nil {
		return err
	}
	// Hash whatever gzip left unread, so the checksum covers the whole file.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return fmt.Errorf("read inventory data file %s: %w", r.name(f), err)
	}
	r.Stats.Files++
	r.Stats.Bytes += cr.n
	if h != nil {
		return r.compare(f, cr.n, h)
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (r *Reader) parse(ctx context.Context, sc Schema, in io.Reader, f File, emit func(*record.Object) error) error {
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = len(sc.Columns)
	cr.ReuseRecord = true
	var o record.Object
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("inventory data file %s: %w", r.name(f), err)
		}
		if r.Stats.Rows%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		r.Stats.Rows++
		keep, err := r.row(sc, row, &o)
		if err != nil {
			line, _ := cr.FieldPos(0)
			return fmt.Errorf("inventory data file %s: line %d: %w", r.name(f), line, err)
		}
		if !keep {
			continue // counted by row
		}
		r.Stats.Emitted++
		if err := emit(&o); err != nil {
			return err
		}
	}
}

// row decodes one CSV row into o and applies the filter. It reports whether
// the row is kept; a dropped row is counted under its reason.
func (r *Reader) row(sc Schema, row []string, o *record.Object) (bool, error) {
	key, err := url.QueryUnescape(row[sc.Key])
	if err != nil {
		return false, fmt.Errorf("column %d (Key): bad URL encoding %q: %w", sc.Key+1, row[sc.Key], err)
	}
	ft := &r.Filter
	if !strings.HasPrefix(key, ft.Prefix) {
		r.Stats.SkippedPrefix++
		return false, nil
	}
	*o = record.Object{Key: key, Bucket: row[sc.Bucket]}
	if sc.IsLatest >= 0 {
		if o.IsLatest, err = parseBool(row[sc.IsLatest]); err != nil {
			return false, fmt.Errorf("column %d (IsLatest): %w", sc.IsLatest+1, err)
		}
	}
	if sc.IsDeleteMarker >= 0 {
		dm, err := parseBool(row[sc.IsDeleteMarker])
		if err != nil {
			return false, fmt.Errorf("column %d (IsDeleteMarker): %w", sc.IsDeleteMarker+1, err)
		}
		o.DeleteMarker = dm == record.BoolTrue
	}
	if ft.LatestOnly && o.IsLatest == record.BoolFalse {
		r.Stats.SkippedNotLatest++
		return false, nil
	}
	if ft.SkipDeleteMarkers && o.DeleteMarker {
		r.Stats.SkippedDeleteMarker++
		return false, nil
	}
	if ft.ReplicationStatus != nil && !oneOf(row[sc.ReplicationStatus], ft.ReplicationStatus) {
		r.Stats.SkippedReplication++
		return false, nil
	}
	if sc.StorageClass >= 0 {
		o.StorageClass = row[sc.StorageClass]
	}
	if ft.StorageClasses != nil && !oneOf(o.StorageClass, ft.StorageClasses) {
		r.Stats.SkippedStorageClass++
		return false, nil
	}
	if sc.VersionID >= 0 {
		o.VersionID = row[sc.VersionID]
	}
	// A delete marker has no size and no ETag in the report.
	if s := row[sc.Size]; s != "" || !o.DeleteMarker {
		if o.Size, err = strconv.ParseInt(s, 10, 64); err != nil || o.Size < 0 {
			return false, fmt.Errorf("column %d (Size): want a non-negative integer, got %q", sc.Size+1, s)
		}
	}
	o.ETag = strings.Trim(row[sc.ETag], `"`)
	if !o.DeleteMarker && o.ETag == "" {
		return false, fmt.Errorf("column %d (ETag): empty for an object that is not a delete marker", sc.ETag+1)
	}
	if sc.LastModified >= 0 && row[sc.LastModified] != "" {
		// ISO-8601 with milliseconds: 2019-06-25T22:30:54.000Z.
		if o.MTime, err = time.Parse(time.RFC3339Nano, row[sc.LastModified]); err != nil {
			return false, fmt.Errorf("column %d (LastModifiedDate): %w", sc.LastModified+1, err)
		}
		o.MTime = o.MTime.UTC().Truncate(time.Second)
	}
	return true, nil
}

func parseBool(s string) (record.Bool, error) {
	switch {
	case s == "":
		return record.BoolNull, nil
	case strings.EqualFold(s, "true"):
		return record.BoolTrue, nil
	case strings.EqualFold(s, "false"):
		return record.BoolFalse, nil
	}
	return record.BoolNull, fmt.Errorf("want true or false, got %q", s)
}
