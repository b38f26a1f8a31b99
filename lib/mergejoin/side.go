package mergejoin

import (
	"bytes"
	"errors"
	"strconv"
	"sync/atomic"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Object record columns (0-based) that the comparison reads. The other
// columns are checked only for count and passed through unparsed.
const (
	colKey          = 0
	colETag         = 1
	colSize         = 2
	colMTime        = 3
	colIsLatest     = 6
	colDeleteMarker = 7
)

// rec is one object record as read: fields alias the reader's buffer (or
// buf, for a held copy) and are valid until the side reads again.
type rec struct {
	fields [][]byte
	key    []byte
	etag   []byte
	mtime  []byte // nil = NULL
	size   int64
	latest record.Bool
	marker bool
	line   int64

	buf []byte // backing store of a held copy (reducer mode)
}

// hold makes r a deep copy of o that survives the reader's next Read,
// reusing r's buffers.
func (r *rec) hold(o *rec) {
	n := 0
	for _, f := range o.fields {
		n += len(f)
	}
	if cap(r.buf) < n {
		r.buf = make([]byte, 0, n+n/2)
	}
	buf := r.buf[:0]
	fields := r.fields[:0]
	for _, f := range o.fields {
		if f == nil {
			fields = append(fields, nil)
			continue
		}
		start := len(buf)
		buf = append(buf, f...)
		fields = append(fields, buf[start:len(buf):len(buf)])
	}
	*r = rec{fields: fields, buf: buf, size: o.size, latest: o.latest, marker: o.marker, line: o.line}
	r.key = fields[colKey]
	r.etag = fields[colETag]
	r.mtime = fields[colMTime]
}

// side is one input of the join (source or destination): it checks each
// record, keeps the order state and decides which records are live.
type side struct {
	name string // "source" or "destination", for messages
	r    *tsv.Reader

	cur rec // the current live record (pipe mode)

	prevKey     []byte
	prevLine    int64
	havePrev    bool
	prevLatest  bool  // the previous key already had a latest (or unversioned) record
	latestLine  int64 // the line of that record
	versioned   int8  // 0 unknown, 1 version-aware listing, -1 plain listing
	colOff      int   // columns before the record on a line (reducer input: 2)
	records     *atomic.Int64
	oldVersions *atomic.Int64
	markers     *atomic.Int64
}

// next advances to the next live record (pipe mode). It returns false at
// end of input.
func (s *side) next() (bool, error) {
	for {
		f, err := s.r.Read()
		if err != nil {
			if err == errEOF {
				return false, nil
			}
			return false, err
		}
		live, err := s.accept(f, s.r.Line(), &s.cur)
		if err != nil {
			return false, err
		}
		if live {
			return true, nil
		}
	}
}

// accept checks one record's columns and its place in the key order, fills
// r, and reports whether the record is live: the object version that the
// comparison uses. Older versions (is_latest=false) and delete markers are
// counted and skipped.
//
// Order rule: keys ascend in raw byte order of the decoded key. A key may
// repeat only in a version-aware listing, and then at most one of its
// records may be the latest; its older versions may come in any order
// (S3 and s3list --versions give them newest first).
func (s *side) accept(f [][]byte, line int64, r *rec) (bool, error) {
	s.records.Add(1)
	if err := parse(f, r); err != nil {
		return false, s.parseErr(err)
	}
	r.line = line
	versioned := int8(-1)
	if r.latest != record.BoolNull {
		versioned = 1
	}
	if s.versioned == 0 {
		s.versioned = versioned
	} else if s.versioned != versioned {
		return false, s.errAt(colIsLatest, errMixedf(s.name, versioned))
	}
	latest := r.latest != record.BoolFalse // plain records are their key's only version
	if s.havePrev {
		switch c := bytes.Compare(r.key, s.prevKey); {
		case c < 0:
			return false, s.errAt(colKey, &OrderError{Input: s.name, Key: string(r.key), PrevKey: string(s.prevKey), PrevLine: s.prevLine})
		case c == 0:
			if latest && s.prevLatest {
				return false, s.errAt(colKey, &OrderError{Input: s.name, Key: string(r.key), PrevKey: string(s.prevKey), PrevLine: s.latestLine, Duplicate: true, Versioned: s.versioned > 0})
			}
			if latest {
				s.prevLatest, s.latestLine = true, line
			}
			s.prevLine = line
			return s.live(r, latest), nil
		}
	}
	s.prevKey = append(s.prevKey[:0], r.key...)
	s.prevLine = line
	s.havePrev = true
	s.prevLatest, s.latestLine = latest, line
	return s.live(r, latest), nil
}

// errAt wraps err as a parse error of the current line at a 0-based record
// column.
func (s *side) errAt(col int, err error) error { return s.r.Error(col+1+s.colOff, err) }

func (s *side) parseErr(err error) error {
	var ce *record.ColumnError
	if errors.As(err, &ce) && ce.Column > 0 {
		return s.r.Error(ce.Column+s.colOff, ce)
	}
	return s.r.Error(0, err)
}

func (s *side) live(r *rec, latest bool) bool {
	switch {
	case !latest:
		s.oldVersions.Add(1)
		return false
	case r.marker:
		s.markers.Add(1)
		return false
	}
	return true
}

// parse fills r from the fields of one object record, checking the columns
// the join relies on. Errors are record.ColumnErrors (see record.AtLine).
func parse(f [][]byte, r *rec) error {
	if len(f) != record.ObjectColumns {
		return &record.ColumnError{Err: errColumnsf(len(f))}
	}
	r.fields = f
	r.key = f[colKey]
	if r.key == nil {
		return colErr(colKey, "key", "must not be NULL")
	}
	r.etag = f[colETag]
	size, ok := parseSize(f[colSize])
	if !ok {
		return colErrf(colSize, "size", "want a non-negative integer, got %s", quote(f[colSize]))
	}
	r.size = size
	r.mtime = f[colMTime]
	if r.mtime != nil && !validTime(r.mtime) {
		return colErrf(colMTime, "mtime", "want YYYY-MM-DD HH:MM:SS, got %s", quote(r.mtime))
	}
	switch b := f[colIsLatest]; {
	case b == nil:
		r.latest = record.BoolNull
	case string(b) == "true":
		r.latest = record.BoolTrue
	case string(b) == "false":
		r.latest = record.BoolFalse
	default:
		return colErrf(colIsLatest, "is_latest", "want true, false or \\N, got %s", quote(b))
	}
	switch b := f[colDeleteMarker]; string(b) {
	case "true":
		r.marker = true
	case "false":
		r.marker = false
	default:
		return colErrf(colDeleteMarker, "delete_marker", "want true or false, got %s", quote(b))
	}
	return nil
}

func parseSize(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, n >= 0
}

// validTime checks the shape YYYY-MM-DD HH:MM:SS (digits and separators);
// the join only compares mtimes as bytes, which this shape makes time order.
func validTime(b []byte) bool {
	if len(b) != len(record.TimeLayout) || b[4] != '-' || b[7] != '-' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return false
	}
	// Unrolled: a loop with a switch on the position cost a tenth of the
	// join's time.
	d := func(c byte) bool { return c-'0' <= 9 }
	return d(b[0]) && d(b[1]) && d(b[2]) && d(b[3]) && d(b[5]) && d(b[6]) && d(b[8]) && d(b[9]) &&
		d(b[11]) && d(b[12]) && d(b[14]) && d(b[15]) && d(b[17]) && d(b[18])
}

func quote(b []byte) string {
	if b == nil {
		return `\N`
	}
	return strconv.Quote(string(b))
}
