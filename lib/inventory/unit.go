package inventory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// UnitTag is the first field of a unit line.
const UnitTag = "inventory"

// UnitColumns is the number of fields of a unit line.
const UnitColumns = 6

// Unit is one data file of a report, self-contained so that a worker can read
// it without the manifest: one unit line per data file lets GNU parallel or a
// Hadoop NLineInputFormat mapper spread a report.
//
// Line format (escaped TSV, see lib/tsv):
//
//	inventory  BUCKET  KEY  SIZE  MD5  FILESCHEMA
type Unit struct {
	Bucket string // bucket of the data file
	File   File
	Schema string // the manifest's fileSchema
}

// Units returns one unit per data file of m; bucket holds the data files.
func Units(m *Manifest, bucket string) []Unit {
	us := make([]Unit, len(m.Files))
	for i, f := range m.Files {
		us[i] = Unit{Bucket: bucket, File: f, Schema: m.FileSchema}
	}
	return us
}

// Write appends u as one line.
func (u *Unit) Write(w *tsv.Writer) error {
	w.String(UnitTag)
	w.String(u.Bucket)
	w.String(u.File.Key)
	w.Int(u.File.Size)
	w.String(u.File.MD5Checksum)
	w.String(u.Schema)
	return w.End()
}

// ParseUnit decodes the fields of a unit line. Errors carry the column as a
// record.ColumnError so that record.AtLine can add the line number.
func ParseUnit(f [][]byte) (Unit, error) {
	var u Unit
	if len(f) != UnitColumns {
		return u, &record.ColumnError{Err: fmt.Errorf("%w: got %d, want %d (inventory unit)", tsv.ErrFieldCount, len(f), UnitColumns)}
	}
	if string(f[0]) != UnitTag {
		return u, &record.ColumnError{Column: 1, Name: "tag", Err: fmt.Errorf("want %q, got %q", UnitTag, f[0])}
	}
	for i, name := range []string{"", "bucket", "key", "size", "md5", "schema"} {
		if i > 0 && len(f[i]) == 0 {
			return u, &record.ColumnError{Column: i + 1, Name: name, Err: errors.New("must not be empty or NULL")}
		}
	}
	u.Bucket, u.File.Key = string(f[1]), string(f[2])
	n, err := strconv.ParseInt(string(f[3]), 10, 64)
	if err != nil || n < 0 {
		return u, &record.ColumnError{Column: 4, Name: "size", Err: fmt.Errorf("want a non-negative integer, got %q", f[3])}
	}
	u.File.Size = n
	u.File.MD5Checksum = string(f[4])
	if err := checkMD5Hex(u.File.MD5Checksum); err != nil {
		return u, &record.ColumnError{Column: 5, Name: "md5", Err: err}
	}
	u.Schema = string(f[5])
	if _, err := ParseSchema(u.Schema); err != nil {
		return u, &record.ColumnError{Column: 6, Name: "schema", Err: err}
	}
	return u, nil
}

// ReadUnit reads the data file of one unit (r.Bucket is set from the unit).
func (r *Reader) ReadUnit(ctx context.Context, u Unit, emit func(*record.Object) error) error {
	sc, err := ParseSchema(u.Schema)
	if err != nil {
		return err
	}
	r.Bucket = u.Bucket
	return r.ReadFile(ctx, sc, u.File, emit)
}

// DirFetcher reads the data files of a report copied to local disk (for
// example with `aws s3 sync s3://DEST/PREFIX/ ./inv/`). The manifest lists
// full keys (PREFIX/SOURCE-BUCKET/CONFIG/data/NAME.csv.gz) while the local
// copy may start at any level, so Open tries each suffix of the key (longest
// first) below Dir and below each of Dir's ancestors up to Depth levels. Set
// Dir to the directory of manifest.json.
type DirFetcher struct {
	Dir   string
	Depth int // ancestors of Dir to try; 0 means 3 (manifest.json sits 3 levels below the data files' common root)
}

// Open ignores bucket: the local copy is of one bucket.
func (d DirFetcher) Open(_ context.Context, _ string, key string) (io.ReadCloser, error) {
	depth := d.Depth
	if depth == 0 {
		depth = 3
	}
	parts := strings.Split(key, "/")
	for _, p := range parts {
		if p == ".." {
			return nil, fmt.Errorf("inventory data file key %q: contains a .. segment", key)
		}
	}
	dir := d.Dir
	for level := 0; level <= depth; level++ {
		for i := range parts {
			p := filepath.Join(dir, filepath.Join(parts[i:]...))
			f, err := os.Open(p)
			if err == nil {
				return f, nil
			}
			if !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return nil, fmt.Errorf("inventory data file %q: not found below %s or its %d parent directories: %w", key, d.Dir, depth, os.ErrNotExist)
}
