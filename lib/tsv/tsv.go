// Package tsv owns s3pipe's line format: tab-separated fields, one record per
// line, with backslash escapes so that any byte string (tab, newline, CR,
// backslash, invalid UTF-8) round-trips, and \N as the whole field meaning NULL.
//
// Encoding:
//
//	\   -> \\
//	TAB -> \t
//	LF  -> \n
//	CR  -> \r
//	NULL (no value) -> \N
//
// All other bytes are written as they are. A field whose value is the two
// characters `\N` is written `\\N`, so it never reads back as NULL.
package tsv

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// DefaultMaxLine bounds one encoded line. S3 keys are at most 1024 bytes
// (2048 escaped); the widest record carries a few keys and an error message.
const DefaultMaxLine = 1 << 20

// Errors a ParseError may wrap.
var (
	ErrBadEscape   = errors.New("bad escape: only \\\\, \\t, \\n, \\r and a whole-field \\N are allowed")
	ErrNullInField = errors.New(`\N (NULL) must be the whole field`)
	ErrTrailingEsc = errors.New("line ends inside an escape")
	ErrRawCR       = errors.New(`raw carriage return (CRLF line ending?); a CR in a value is written \r`)
	ErrLineTooLong = errors.New("line too long")
	ErrFieldCount  = errors.New("wrong number of columns")
)

// ParseError reports where a line failed to parse. Line and Column are 1-based;
// Column is 0 when the error concerns the whole line.
type ParseError struct {
	Name   string // input name (file or "stdin"), may be empty
	Line   int64
	Column int
	Err    error
}

func (e *ParseError) Error() string {
	where := "line " + strconv.FormatInt(e.Line, 10)
	if e.Name != "" {
		where = e.Name + ": " + where
	}
	if e.Column > 0 {
		where += ", column " + strconv.Itoa(e.Column)
	}
	return where + ": " + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Reader reads escaped TSV records. The fields returned by Read alias an
// internal buffer and are valid until the next call to Read.
type Reader struct {
	// Name labels errors (a file name, "stdin").
	Name string
	// MaxLine is the longest accepted encoded line, without its newline.
	MaxLine int
	// SkipKey drops a leading Hadoop streaming key field (the byte offset that
	// NLineInputFormat prepends); it must be a decimal number.
	SkipKey bool

	br     *bufio.Reader
	line   int64
	buf    []byte
	spans  []span
	fields [][]byte
	long   []byte
	err    error // a read error met while skipping an over-long line
}

// NewReader returns a Reader with DefaultMaxLine.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 256<<10), MaxLine: DefaultMaxLine, buf: make([]byte, 0, 4096)}
}

// Line is the 1-based number of the line last returned by Read.
func (r *Reader) Line() int64 { return r.line }

// Errorf builds a ParseError for the current line and a 1-based column.
func (r *Reader) Errorf(column int, format string, args ...any) error {
	return &ParseError{Name: r.Name, Line: r.line, Column: column, Err: fmt.Errorf(format, args...)}
}

// Error wraps err as a ParseError for the current line and column.
func (r *Reader) Error(column int, err error) error {
	return &ParseError{Name: r.Name, Line: r.line, Column: column, Err: err}
}

// ReadLine returns the next raw line without its newline (no unescaping). It
// is for line formats that are not escaped TSV (part files).
func (r *Reader) ReadLine() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.long = r.long[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(r.long)+len(chunk) > r.MaxLine {
				r.line++
				r.drain()
				return nil, r.Error(0, fmt.Errorf("%w (over %d bytes)", ErrLineTooLong, r.MaxLine))
			}
			r.long = append(r.long, chunk...)
			continue
		}
		if err == io.EOF {
			if len(chunk) == 0 && len(r.long) == 0 {
				return nil, io.EOF
			}
		} else if err != nil {
			return nil, err
		}
		line := chunk
		if len(r.long) > 0 {
			r.long = append(r.long, chunk...)
			line = r.long
		}
		r.line++
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
		}
		if len(line) > r.MaxLine {
			return nil, r.Error(0, fmt.Errorf("%w (over %d bytes)", ErrLineTooLong, r.MaxLine))
		}
		return line, nil
	}
}

// drain discards the rest of an over-long line so reading can go on. A read
// error is kept for the next call: bufio reports it only once, and losing it
// would turn a failed read into a silent end of input.
func (r *Reader) drain() {
	for {
		_, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			r.err = err
		}
		return
	}
}

// Read returns the next record's fields, unescaped. A NULL field is nil; an
// empty field is a non-nil empty slice. At end of input it returns io.EOF.
func (r *Reader) Read() ([][]byte, error) {
	line, err := r.ReadLine()
	if err != nil {
		return nil, err
	}
	fields, err := r.split(line)
	if err != nil {
		return nil, err
	}
	if r.SkipKey {
		if len(fields) < 2 || !isDigits(fields[0]) {
			return nil, r.Errorf(1, "expected a Hadoop streaming byte-offset key before the record")
		}
		fields = fields[1:]
	}
	return fields, nil
}

// ReadN is Read that also checks the number of columns.
func (r *Reader) ReadN(n int) ([][]byte, error) {
	f, err := r.Read()
	if err == nil && len(f) != n {
		return nil, r.Error(0, fmt.Errorf("%w: got %d, want %d", ErrFieldCount, len(f), n))
	}
	return f, err
}

func isDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Where a decoded field lives: in the line itself (nothing to unescape), in
// r.buf (unescaped), or nowhere (NULL).
const (
	inLine = iota
	inBuf
	isNull
)

type span struct{ start, end, where int }

// split unescapes line and slices it into r.fields. Fields with nothing to
// unescape alias line; the others are decoded into r.buf. Field boundaries
// are recorded as offsets first because r.buf may move while it grows.
func (r *Reader) split(line []byte) ([][]byte, error) {
	if line == nil {
		line = []byte{} // an empty field is non-nil; only \N is nil
	}
	// Fast path: most lines hold no backslash and no CR, so every field is
	// the bytes between tabs. bytes.IndexByte (vectorised) beats a one-pass
	// byte loop here even though it is called once per field.
	if bytes.IndexByte(line, '\\') < 0 && bytes.IndexByte(line, '\r') < 0 {
		fields := r.fields[:0]
		for {
			i := bytes.IndexByte(line, '\t')
			if i < 0 {
				break
			}
			fields = append(fields, line[:i:i])
			line = line[i+1:]
		}
		fields = append(fields, line[:len(line):len(line)])
		r.fields = fields
		return fields, nil
	}
	buf := r.buf[:0]
	spans := r.spans[:0]
	start := 0
	for col := 1; ; col++ {
		end := bytes.IndexByte(line[start:], '\t')
		if end < 0 {
			end = len(line)
		} else {
			end += start
		}
		raw := line[start:end]
		switch {
		case len(raw) == 2 && raw[0] == '\\' && raw[1] == 'N':
			spans = append(spans, span{where: isNull})
		case bytes.IndexByte(raw, '\\') < 0 && bytes.IndexByte(raw, '\r') < 0:
			spans = append(spans, span{start, end, inLine})
		default:
			b := len(buf)
			var err error
			if buf, err = unescape(buf, raw); err != nil {
				if err == ErrTrailingEsc && end < len(line) {
					err = fmt.Errorf("%w (found \\%q)", ErrBadEscape, '\t') // the escape swallows the tab
				}
				r.buf, r.spans = buf, spans
				return nil, r.Error(col, err)
			}
			spans = append(spans, span{b, len(buf), inBuf})
		}
		if end == len(line) {
			break
		}
		start = end + 1
	}
	fields := r.fields[:0]
	for _, s := range spans {
		switch s.where {
		case inLine:
			fields = append(fields, line[s.start:s.end:s.end])
		case inBuf:
			fields = append(fields, buf[s.start:s.end:s.end])
		default:
			fields = append(fields, nil)
		}
	}
	r.buf, r.spans, r.fields = buf, spans, fields
	return fields, nil
}

// unescape appends the decoding of one raw field (no tabs; not a whole-field
// \N) to dst.
func unescape(dst, raw []byte) ([]byte, error) {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\\':
			if i+1 >= len(raw) {
				return dst, ErrTrailingEsc
			}
			i++
			switch raw[i] {
			case '\\':
				dst = append(dst, '\\')
			case 't':
				dst = append(dst, '\t')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 'N':
				// A whole-field \N never gets here; this one is embedded.
				return dst, ErrNullInField
			default:
				return dst, fmt.Errorf("%w (found \\%q)", ErrBadEscape, raw[i])
			}
		case '\r':
			return dst, ErrRawCR
		default:
			dst = append(dst, c)
		}
	}
	return dst, nil
}

// Writer writes escaped TSV records field by field without allocating. Errors
// are sticky: after a failed write, every call is a no-op and Flush or Err
// returns the first error.
type Writer struct {
	w     *bufio.Writer
	first bool
	err   error
	num   [24]byte
}

// NewWriter returns a Writer with a large buffer: one owner per stream.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 256<<10), first: true}
}

func (w *Writer) sep() {
	if w.first {
		w.first = false
		return
	}
	w.w.WriteByte('\t')
}

// Bytes writes one field, escaped.
func (w *Writer) Bytes(b []byte) {
	if w.err != nil {
		return
	}
	if b == nil {
		w.Null()
		return
	}
	// Fast path: escape straight into bufio's free space (tab + at worst
	// two bytes per input byte), one Write per field.
	if buf := w.w.AvailableBuffer(); 2*len(b)+1 <= cap(buf) {
		buf = w.appendSep(buf)
		for {
			i := indexSpecial(b)
			if i < 0 {
				buf = append(buf, b...)
				break
			}
			buf = append(append(buf, b[:i]...), escapeOf(b[i])...)
			b = b[i+1:]
		}
		w.w.Write(buf)
		return
	}
	w.sep()
	w.escape(b)
}

// String writes one non-NULL string field, escaped.
func (w *Writer) String(s string) {
	if w.err != nil {
		return
	}
	if buf := w.w.AvailableBuffer(); 2*len(s)+1 <= cap(buf) {
		buf = w.appendSep(buf)
		for {
			i := indexSpecialString(s)
			if i < 0 {
				buf = append(buf, s...)
				break
			}
			buf = append(append(buf, s[:i]...), escapeOf(s[i])...)
			s = s[i+1:]
		}
		w.w.Write(buf)
		return
	}
	w.sep()
	w.escapeString(s)
}

// appendSep appends the field separator unless this is a record's first field.
func (w *Writer) appendSep(buf []byte) []byte {
	if w.first {
		w.first = false
		return buf
	}
	return append(buf, '\t')
}

// NullString writes s, or NULL when s is empty.
func (w *Writer) NullString(s string) {
	if s == "" {
		w.Null()
		return
	}
	w.String(s)
}

// Null writes a NULL field (\N).
func (w *Writer) Null() {
	if w.err != nil {
		return
	}
	w.sep()
	w.w.WriteString(`\N`)
}

// Int writes a decimal integer field.
func (w *Writer) Int(n int64) {
	if w.err != nil {
		return
	}
	if buf := w.w.AvailableBuffer(); cap(buf) >= len(w.num) {
		w.w.Write(strconv.AppendInt(w.appendSep(buf), n, 10))
		return
	}
	w.sep()
	w.w.Write(strconv.AppendInt(w.num[:0], n, 10))
}

// End terminates the record.
func (w *Writer) End() error {
	if w.err != nil {
		return w.err
	}
	if err := w.w.WriteByte('\n'); err != nil {
		w.err = err
	}
	w.first = true
	return w.err
}

// Record writes a whole record of byte fields (nil = NULL).
func (w *Writer) Record(fields [][]byte) error {
	for _, f := range fields {
		w.Bytes(f)
	}
	return w.End()
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.err = w.w.Flush()
	return w.err
}

// Err returns the first error met.
func (w *Writer) Err() error { return w.err }

// Buffered reports how many bytes wait in the buffer.
func (w *Writer) Buffered() int { return w.w.Buffered() }

func needsEscape(c byte) bool { return c == '\\' || c == '\t' || c == '\n' || c == '\r' }

// SWAR constants: one in every byte, the top bit of every byte.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// maybeSpecial reports whether the 8 bytes of x may hold a byte that needs
// escaping: a control byte (< 0x20, which covers tab, LF and CR) or a
// backslash. It is exact for "none", so plain text costs a few operations
// per 8 bytes instead of four comparisons per byte.
func maybeSpecial(x uint64) bool {
	ctl := (x - 0x20*lsb) &^ x & msb
	y := x ^ ('\\' * lsb)
	bsl := (y - lsb) &^ y & msb
	return ctl|bsl != 0
}

// indexSpecial returns the index of the first byte of b that needs escaping,
// or -1.
func indexSpecial(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if !maybeSpecial(binary.LittleEndian.Uint64(b[i:])) {
			continue
		}
		for j := i; j < i+8; j++ {
			if needsEscape(b[j]) {
				return j
			}
		}
	}
	for ; i < len(b); i++ {
		if needsEscape(b[i]) {
			return i
		}
	}
	return -1
}

// indexSpecialString is indexSpecial for a string, without converting it.
func indexSpecialString(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if !maybeSpecial(x) {
			continue
		}
		for j := i; j < i+8; j++ {
			if needsEscape(s[j]) {
				return j
			}
		}
	}
	for ; i < len(s); i++ {
		if needsEscape(s[i]) {
			return i
		}
	}
	return -1
}

func (w *Writer) escape(b []byte) {
	for {
		i := indexSpecial(b)
		if i < 0 {
			w.writeCopy(b)
			return
		}
		w.writeCopy(b[:i])
		w.w.Write(escapeOf(b[i]))
		b = b[i+1:]
	}
}

// writeCopy writes b by copying it into bufio's buffer. Handing b itself to
// bufio.Writer.Write would let it escape (bufio passes large slices straight
// to the underlying io.Writer), so every caller's stack buffer, such as a
// formatted timestamp, would be moved to the heap.
func (w *Writer) writeCopy(b []byte) {
	for len(b) > 0 {
		buf := w.w.AvailableBuffer()
		if cap(buf) == 0 {
			if w.w.Flush() != nil {
				return // bufio keeps the error; End and Flush report it
			}
			continue
		}
		n := min(len(b), cap(buf))
		w.w.Write(append(buf, b[:n]...))
		b = b[n:]
	}
}

func (w *Writer) escapeString(s string) {
	for {
		i := indexSpecialString(s)
		if i < 0 {
			w.w.WriteString(s)
			return
		}
		w.w.WriteString(s[:i])
		w.w.Write(escapeOf(s[i]))
		s = s[i+1:]
	}
}

var (
	escBackslash = []byte(`\\`)
	escTab       = []byte(`\t`)
	escLF        = []byte(`\n`)
	escCR        = []byte(`\r`)
)

func escapeOf(c byte) []byte {
	switch c {
	case '\\':
		return escBackslash
	case '\t':
		return escTab
	case '\n':
		return escLF
	default:
		return escCR
	}
}

// AppendEscaped appends the escaped form of b (nil = \N) to dst.
func AppendEscaped(dst, b []byte) []byte {
	if b == nil {
		return append(dst, `\N`...)
	}
	for _, c := range b {
		if needsEscape(c) {
			dst = append(dst, escapeOf(c)...)
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// Unescape decodes one escaped field (no tabs allowed). It returns nil for \N.
func Unescape(s []byte) ([]byte, error) {
	if bytes.Equal(s, []byte(`\N`)) {
		return nil, nil
	}
	if bytes.IndexByte(s, '\t') >= 0 {
		return nil, errors.New("unescaped tab in field")
	}
	r := Reader{MaxLine: DefaultMaxLine, buf: make([]byte, 0, len(s))}
	f, err := r.split(s)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	out := make([]byte, len(f[0]))
	copy(out, f[0])
	return out, nil
}
