package mergejoin

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

var errEOF = io.EOF

// ErrOrder is wrapped by every OrderError, for errors.Is.
var ErrOrder = errors.New("input not in key order")

// OrderError is a key out of order or repeated. It is returned wrapped in a
// *tsv.ParseError that names the input and the line of Key.
type OrderError struct {
	Input     string // "source" or "destination"
	Key       string
	PrevKey   string
	PrevLine  int64
	Duplicate bool
	Versioned bool // the input is a version-aware listing
}

func (e *OrderError) Error() string {
	prev := "line " + strconv.FormatInt(e.PrevLine, 10)
	switch {
	case !e.Duplicate:
		return fmt.Sprintf("%s key %s sorts before %s on %s: the %s must be sorted by key in raw byte order (as S3 lists keys)",
			e.Input, strconv.Quote(e.Key), strconv.Quote(e.PrevKey), prev, e.Input)
	case e.Versioned:
		return fmt.Sprintf("%s key %s has a second latest version (%s has one): a version listing may repeat a key only for its older versions (is_latest=false)",
			e.Input, strconv.Quote(e.Key), prev)
	}
	return fmt.Sprintf("%s key %s is a duplicate of %s: a listing without versions has one record per key",
		e.Input, strconv.Quote(e.Key), prev)
}

func (e *OrderError) Unwrap() error { return ErrOrder }

func errMixedf(input string, versioned int8) error {
	if versioned > 0 {
		return fmt.Errorf("%s mixes records with and without is_latest: a version-aware record follows plain ones", input)
	}
	return fmt.Errorf("%s mixes records with and without is_latest: a record without is_latest follows version-aware ones", input)
}

func errColumnsf(n int) error {
	return fmt.Errorf("%w: got %d, want %d (object record)", tsv.ErrFieldCount, n, record.ObjectColumns)
}

// colErr reports a problem with a 0-based column.
func colErr(col int, name, msg string) error {
	return &record.ColumnError{Column: col + 1, Name: name, Err: errors.New(msg)}
}

func colErrf(col int, name, format string, args ...any) error {
	return &record.ColumnError{Column: col + 1, Name: name, Err: fmt.Errorf(format, args...)}
}
