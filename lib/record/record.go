// Package record owns the typed records that flow between the five tools:
// Object (s3list, s3diff), Plan (s3mpplan), Result (s3copy) and Report
// (s3mpdone). Column order is the contract documented in docs/FORMAT.md; the
// tsv package does the escaping.
package record

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/s3pipe/s3pipe/lib/tsv"
)

// TimeLayout is the mtime column format (UTC), as Campanile and Hive use it.
const TimeLayout = "2006-01-02 15:04:05"

// Column counts of each record type.
const (
	ObjectColumns = 9
	PlanColumns   = 16
	ResultColumns = PlanColumns + 7
	ReportColumns = 15
)

// Object is one listed object version (or delete marker).
type Object struct {
	Key          string
	ETag         string // without quotes; empty for a delete marker
	Size         int64
	MTime        time.Time
	StorageClass string // empty = NULL
	VersionID    string // empty = NULL (listing not version-aware); "null" is a real id
	IsLatest     Bool   // NULL when not version-aware
	DeleteMarker bool
	Bucket       string // source bucket; empty = NULL (unknown)
}

// Bool is a nullable boolean column: "true", "false" or \N.
type Bool int8

const (
	BoolNull Bool = iota
	BoolFalse
	BoolTrue
)

func (b Bool) write(w *tsv.Writer) {
	switch b {
	case BoolTrue:
		w.String("true")
	case BoolFalse:
		w.String("false")
	default:
		w.Null()
	}
}

// Write appends o as one line.
func (o *Object) Write(w *tsv.Writer) error {
	w.String(o.Key)
	w.String(o.ETag)
	w.Int(o.Size)
	writeTime(w, o.MTime)
	w.NullString(o.StorageClass)
	w.NullString(o.VersionID)
	o.IsLatest.write(w)
	writeBool(w, o.DeleteMarker)
	w.NullString(o.Bucket)
	return w.End()
}

// ParseObject decodes the fields of one object record. Errors carry the
// 1-based column; Reader.Error turns them into line-numbered ParseErrors.
func ParseObject(f [][]byte, o *Object) error {
	if len(f) != ObjectColumns {
		return &ColumnError{Err: fmt.Errorf("%w: got %d, want %d (object record)", tsv.ErrFieldCount, len(f), ObjectColumns)}
	}
	var err error
	if f[0] == nil {
		return colErr(1, "key", errors.New("must not be NULL"))
	}
	o.Key = string(f[0])
	o.ETag = str(f[1])
	if o.Size, err = parseSize(f[2]); err != nil {
		return colErr(3, "size", err)
	}
	if o.MTime, err = parseTime(f[3]); err != nil {
		return colErr(4, "mtime", err)
	}
	o.StorageClass = str(f[4])
	o.VersionID = str(f[5])
	if o.IsLatest, err = parseBool(f[6]); err != nil {
		return colErr(7, "is_latest", err)
	}
	dm, err := parseBool(f[7])
	if err != nil || dm == BoolNull {
		return colErr(8, "delete_marker", errors.New("want true or false"))
	}
	o.DeleteMarker = dm == BoolTrue
	o.Bucket = str(f[8])
	return nil
}

// ColumnError is a record-level parse error at a 1-based column (0 = the
// whole record).
type ColumnError struct {
	Column int
	Name   string
	Err    error
}

func (e *ColumnError) Error() string {
	if e.Name != "" {
		return e.Name + ": " + e.Err.Error()
	}
	return e.Err.Error()
}

func (e *ColumnError) Unwrap() error { return e.Err }

// AtLine converts a ColumnError (or any error) from a Parse function into a
// line-numbered tsv.ParseError of reader r.
func AtLine(r *tsv.Reader, err error) error {
	var ce *ColumnError
	if errors.As(err, &ce) {
		return r.Error(ce.Column, ce)
	}
	return r.Error(0, err)
}

func colErr(col int, name string, err error) error {
	return &ColumnError{Column: col, Name: name, Err: err}
}

func str(b []byte) string {
	if b == nil {
		return ""
	}
	return string(b)
}

func parseSize(b []byte) (int64, error) {
	if b == nil {
		return 0, errors.New("must not be NULL")
	}
	n, err := parseUint(b)
	if err != nil {
		return 0, fmt.Errorf("want a non-negative integer, got %q", b)
	}
	return n, nil
}

func parseUint(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 19 {
		return 0, strconv.ErrSyntax
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		n = n*10 + int64(c-'0')
	}
	if n < 0 {
		return 0, strconv.ErrRange
	}
	return n, nil
}

// parseOptInt parses a nullable integer column in lo..hi; NULL is 0. An
// explicit 0 is out of range on purpose: 0 is how the struct spells NULL, so
// accepting it would rewrite "0" as \N.
func parseOptInt(b []byte, lo, hi int64) (int64, error) {
	if b == nil {
		return 0, nil
	}
	n, err := parseUint(b)
	if err != nil || n < lo || n > hi {
		return 0, strconv.ErrRange
	}
	return n, nil
}

func parseBool(b []byte) (Bool, error) {
	switch string(b) {
	case "true":
		return BoolTrue, nil
	case "false":
		return BoolFalse, nil
	}
	if b == nil {
		return BoolNull, nil
	}
	return BoolNull, fmt.Errorf("want true, false or \\N, got %q", b)
}

func writeBool(w *tsv.Writer, b bool) {
	if b {
		w.String("true")
	} else {
		w.String("false")
	}
}

func writeTime(w *tsv.Writer, t time.Time) {
	if t.IsZero() {
		w.Null()
		return
	}
	var buf [19]byte
	w.Bytes(t.UTC().AppendFormat(buf[:0], TimeLayout))
}

// parseTime parses YYYY-MM-DD HH:MM:SS without allocating in the common case.
func parseTime(b []byte) (time.Time, error) {
	if b == nil {
		return time.Time{}, nil
	}
	if len(b) != 19 || b[4] != '-' || b[7] != '-' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, fmt.Errorf("want YYYY-MM-DD HH:MM:SS, got %q", b)
	}
	num := func(s []byte) int {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, h, mi, s := num(b[0:4]), num(b[5:7]), num(b[8:10]), num(b[11:13]), num(b[14:16]), num(b[17:19])
	// time.Date would quietly normalise 2023-02-30 to March 2 and second 60
	// to the next minute, changing the value; reject them instead.
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 {
		return time.Time{}, fmt.Errorf("want a valid YYYY-MM-DD HH:MM:SS, got %q", b)
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC), nil
}

// daysIn returns the number of days in month m (1-12) of year y.
func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
