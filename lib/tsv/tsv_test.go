package tsv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// allBytes is every byte value 0x00..0xff, in order.
func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// eachByte is 256 one-byte fields, one per byte value.
func eachByte() [][]byte {
	f := make([][]byte, 256)
	for i := range f {
		f[i] = []byte{byte(i)}
	}
	return f
}

// nasty1024 is a 1024-byte key (the S3 maximum) made of every class of byte
// that needs care.
func nasty1024() []byte {
	unit := []byte("a\tb\nc\rd\\e\\Nf\x00\x7f\xc2\x85\xff日😀 ")
	var b []byte
	for len(b) < 1024 {
		b = append(b, unit...)
	}
	return b[:1024]
}

func fields(ss ...string) [][]byte {
	f := make([][]byte, len(ss))
	for i, s := range ss {
		f[i] = []byte(s)
	}
	return f
}

// encode writes records with Writer.Record and returns the output.
func encode(t testing.TB, recs ...[][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range recs {
		if err := w.Record(r); err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return buf.Bytes()
}

// sameFields compares field lists, telling NULL (nil) from empty.
func sameFields(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) || !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// clone copies fields out of the Reader's buffer, keeping nil as nil.
func clone(f [][]byte) [][]byte {
	out := make([][]byte, len(f))
	for i, b := range f {
		if b != nil {
			out[i] = append([]byte{}, b...)
		}
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	long := bytes.Repeat([]byte{'\\'}, 1024)
	manyNulls := make([][]byte, 100) // NULLs past column 64 too
	manyNulls[99] = []byte("last")
	tests := []struct {
		name   string
		fields [][]byte
		want   string // encoded line without its newline; "" = not checked
	}{
		{"plain", fields("key", "etag", "123"), "key\tetag\t123"},
		{"tab", fields("a\tb"), `a\tb`},
		{"LF", fields("a\nb"), `a\nb`},
		{"CR", fields("a\rb"), `a\rb`},
		{"CRLF in value", fields("a\r\n"), `a\r\n`},
		{"backslash", fields(`a\b`), `a\\b`},
		{"lone backslash", fields(`\`), `\\`},
		{"trailing backslash", fields(`a\`, "b"), `a\\` + "\tb"},
		{"two backslashes", fields(`\\`), `\\\\`},
		{"literal \\N is not NULL", fields(`\N`), `\\N`},
		{"literal \\N inside", fields(`a\Nb`), `a\\Nb`},
		{"literal \\t is two chars", fields(`\t`), `\\t`},
		{"NULL", [][]byte{nil}, `\N`},
		{"empty", fields(""), ""},
		{"NULL vs empty", [][]byte{nil, {}, nil, []byte("x"), {}}, "\\N\t\t\\N\tx\t"},
		{"empty fields around", fields("", "a", ""), "\ta\t"},
		{"N alone", fields("N"), "N"},
		{"invalid UTF-8", fields("\xff\xfe", "\xc3", "a\x80b"), "\xff\xfe\t\xc3\ta\x80b"},
		{"NUL byte", fields("a\x00b"), "a\x00b"},
		{"DEL 0x7f", fields("\x7f"), "\x7f"},
		{"C1 controls as UTF-8", fields("\u0080\u0085\u009f"), "\u0080\u0085\u009f"},
		{"unicode", fields("é", "日本", "😀", "e\u0301"), "é\t日本\t😀\te\u0301"},
		{"all bytes in one field", [][]byte{allBytes()}, ""},
		{"each byte its own field", eachByte(), ""},
		{"1024-byte key", [][]byte{nasty1024(), []byte("x")}, ""},
		{"1024 backslashes", [][]byte{long}, strings.Repeat(`\\`, 1024)},
		{"100 columns, mostly NULL", manyNulls, strings.Repeat("\\N\t", 99) + "last"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := encode(t, tt.fields, fields("next"))
			line, rest, ok := bytes.Cut(out, []byte("\n"))
			if !ok || string(rest) != "next\n" {
				t.Fatalf("encoding is not one line: %q", out)
			}
			if tt.want != "" && string(line) != tt.want {
				t.Errorf("encoded %q, want %q", line, tt.want)
			}
			// AppendEscaped and the String path write the same bytes.
			var app []byte
			var sb bytes.Buffer
			w := NewWriter(&sb)
			for i, f := range tt.fields {
				if i > 0 {
					app = append(app, '\t')
				}
				app = AppendEscaped(app, f)
				if f == nil {
					w.Null()
				} else {
					w.String(string(f))
				}
			}
			w.End()
			w.Flush()
			if !bytes.Equal(app, line) {
				t.Errorf("AppendEscaped gave %q, Writer gave %q", app, line)
			}
			if !bytes.Equal(sb.Bytes(), out[:len(line)+1]) {
				t.Errorf("String path gave %q, Bytes path gave %q", sb.Bytes(), out[:len(line)+1])
			}

			r := NewReader(bytes.NewReader(out))
			got, err := r.Read()
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !sameFields(got, tt.fields) {
				t.Errorf("read back %q, want %q", got, tt.fields)
			}
			if got, err := r.Read(); err != nil || !sameFields(got, fields("next")) {
				t.Errorf("second record = %q, %v", got, err)
			}
			if _, err := r.Read(); err != io.EOF {
				t.Errorf("after the last record: %v, want io.EOF", err)
			}
		})
	}
}

// A record of one empty field is an empty line; a record of no fields cannot
// be told from it, so it reads back as one empty field.
func TestEmptyLine(t *testing.T) {
	out := encode(t, fields(""), nil)
	if string(out) != "\n\n" {
		t.Fatalf("encoded %q", out)
	}
	r := NewReader(bytes.NewReader(out))
	for i := 0; i < 2; i++ {
		f, err := r.Read()
		if err != nil || len(f) != 1 || f[0] == nil || len(f[0]) != 0 {
			t.Fatalf("record %d = %q, %v; want one empty non-NULL field", i+1, f, err)
		}
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		maxLine int
		line    int64
		col     int
		err     error
		next    [][]byte // the record after the bad line; nil = EOF
	}{
		{"bad escape", "ok\na\\xb\tc\nnext\n", 0, 2, 1, ErrBadEscape, fields("next")},
		{"bad escape in column 3", "a\tb\t\\a\nnext\n", 0, 1, 3, ErrBadEscape, fields("next")},
		{"escaped digit", "\\0\nnext\n", 0, 1, 1, ErrBadEscape, fields("next")},
		{"escaped tab", "a\\\tb\nnext\n", 0, 1, 1, ErrBadEscape, fields("next")},
		{"embedded \\N", "x\ta\\Nb\nnext\n", 0, 1, 2, ErrNullInField, fields("next")},
		{"\\N at field start", "\\Nb\nnext\n", 0, 1, 1, ErrNullInField, fields("next")},
		{"\\N at field end", "x\tb\\N\nnext\n", 0, 1, 2, ErrNullInField, fields("next")},
		{"\\N twice", "\\N\\N\nnext\n", 0, 1, 1, ErrNullInField, fields("next")},
		{"trailing backslash", "a\tb\\\nnext\n", 0, 1, 2, ErrTrailingEsc, fields("next")},
		{"trailing backslash at EOF", "ok\na\\", 0, 2, 1, ErrTrailingEsc, nil},
		{"CRLF line", "ok\na\tb\r\nnext\n", 0, 2, 2, ErrRawCR, fields("next")},
		{"raw CR inside", "a\rb\nnext\n", 0, 1, 1, ErrRawCR, fields("next")},
		{"over-long line", "short\n123456789\nnext\n", 8, 2, 0, ErrLineTooLong, fields("next")},
		{"over-long last line", "short\n123456789", 8, 2, 0, ErrLineTooLong, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in))
			r.Name = "in.tsv"
			if tt.maxLine > 0 {
				r.MaxLine = tt.maxLine
			}
			var err error
			for err == nil {
				_, err = r.Read()
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want a *ParseError", err, err)
			}
			if pe.Line != tt.line || pe.Column != tt.col || pe.Name != "in.tsv" {
				t.Errorf("at %s line %d column %d, want line %d column %d", pe.Name, pe.Line, pe.Column, tt.line, tt.col)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %v, want %v", err, tt.err)
			}
			// Reading goes on after the bad line.
			f, err := r.Read()
			if tt.next == nil {
				if err != io.EOF {
					t.Errorf("after the error: %q, %v; want io.EOF", f, err)
				}
				return
			}
			if err != nil || !sameFields(f, tt.next) || r.Line() != tt.line+1 {
				t.Errorf("after the error: %q, %v at line %d; want %q at line %d", f, err, r.Line(), tt.next, tt.line+1)
			}
		})
	}
}

func TestMaxLine(t *testing.T) {
	in := "1234\n12345\n123\n"
	r := NewReader(strings.NewReader(in))
	r.MaxLine = 4
	if f, err := r.Read(); err != nil || string(f[0]) != "1234" {
		t.Fatalf("a line of exactly MaxLine bytes: %q, %v", f, err)
	}
	if _, err := r.Read(); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("MaxLine+1 bytes: %v, want ErrLineTooLong", err)
	}
	if f, err := r.Read(); err != nil || string(f[0]) != "123" || r.Line() != 3 {
		t.Fatalf("after: %q, %v, line %d", f, err, r.Line())
	}
}

// A line longer than the bufio buffer (256 KiB) is skipped to its end, not
// read in pieces, and the line count stays right.
func TestOverLongLineBeyondBuffer(t *testing.T) {
	long := strings.Repeat("x", 700<<10)
	for _, maxLine := range []int{1000, 300 << 10} {
		in := "first\n" + long + "\nafter\n" + long // last line without newline
		r := NewReader(strings.NewReader(in))
		r.MaxLine = maxLine
		want := []struct {
			field string
			err   error
			line  int64
		}{{"first", nil, 1}, {"", ErrLineTooLong, 2}, {"after", nil, 3}, {"", ErrLineTooLong, 4}, {"", io.EOF, 4}}
		for i, w := range want {
			f, err := r.Read()
			if !errors.Is(err, w.err) || r.Line() != w.line || (err == nil && string(f[0]) != w.field) {
				t.Fatalf("MaxLine %d, read %d: %.20q, %v at line %d; want %q, %v at line %d",
					maxLine, i+1, f, err, r.Line(), w.field, w.err, w.line)
			}
		}
	}
	// Lines longer than the buffer but within MaxLine are read whole.
	r := NewReader(strings.NewReader(long + "\tb\n" + long))
	for i := 0; i < 2; i++ {
		f, err := r.Read()
		if err != nil || len(f[0]) != len(long) {
			t.Fatalf("long line %d: %v", i+1, err)
		}
	}
}

// errAfter yields data, then err (once), then io.EOF.
type errAfter struct {
	data []byte
	err  error
}

func (e *errAfter) Read(p []byte) (int, error) {
	if len(e.data) > 0 {
		n := copy(p, e.data)
		e.data = e.data[n:]
		return n, nil
	}
	err := e.err
	e.err = nil
	if err == nil {
		err = io.EOF
	}
	return 0, err
}

// A read error met while skipping an over-long line must not turn into a
// quiet end of input.
func TestReadErrorWhileSkipping(t *testing.T) {
	boom := errors.New("connection reset")
	r := NewReader(&errAfter{data: bytes.Repeat([]byte("y"), 600<<10), err: boom})
	r.MaxLine = 1000
	if _, err := r.Read(); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("first read: %v, want ErrLineTooLong", err)
	}
	if _, err := r.Read(); !errors.Is(err, boom) {
		t.Fatalf("second read: %v, want %v", err, boom)
	}
}

func TestReadN(t *testing.T) {
	r := NewReader(strings.NewReader("a\tb\tc\na\tb\n\\N\t\t\n"))
	if f, err := r.ReadN(3); err != nil || len(f) != 3 {
		t.Fatalf("line 1: %q, %v", f, err)
	}
	_, err := r.ReadN(3)
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrFieldCount) || pe.Line != 2 || pe.Column != 0 {
		t.Fatalf("line 2: %v, want ErrFieldCount at line 2, column 0", err)
	}
	if got := err.Error(); got != "line 2: wrong number of columns: got 2, want 3" {
		t.Errorf("error text %q", got)
	}
	if f, err := r.ReadN(3); err != nil || !sameFields(f, [][]byte{nil, {}, {}}) {
		t.Fatalf("line 3: %q, %v", f, err)
	}
	if _, err := r.ReadN(3); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestSkipKey(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want [][]byte // nil: an error at column 1
	}{
		{"offset 0", "0\ta\tb\n", fields("a", "b")},
		{"large offset", "123456789012\tx\n", fields("x")},
		{"record with NULL", "5\t\\N\n", [][]byte{nil}},
		{"record with escapes", "7\ta\\tb\n", fields("a\tb")},
		{"not numeric", "x1\ta\n", nil},
		{"negative", "-1\ta\n", nil},
		{"empty key", "\ta\n", nil},
		{"NULL key", "\\N\ta\n", nil},
		{"key only", "42\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in + "9\tnext\n"))
			r.SkipKey = true
			f, err := r.Read()
			if tt.want == nil {
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Line != 1 || pe.Column != 1 {
					t.Fatalf("got %q, %v; want an error at line 1, column 1", f, err)
				}
			} else if err != nil || !sameFields(f, tt.want) {
				t.Fatalf("got %q, %v; want %q", f, err, tt.want)
			}
			if f, err := r.Read(); err != nil || !sameFields(f, fields("next")) {
				t.Fatalf("next record: %q, %v", f, err)
			}
		})
	}
}

func TestEndOfInput(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want [][][]byte
	}{
		{"empty input", "", nil},
		{"last line without newline", "a\tb\nc\td", [][][]byte{fields("a", "b"), fields("c", "d")}},
		{"last line is NULL without newline", "a\n\\N", [][][]byte{fields("a"), {nil}}},
		{"one empty line", "\n", [][][]byte{fields("")}},
		{"blank lines are records", "\n\na\n", [][][]byte{fields(""), fields(""), fields("a")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in))
			for i, want := range tt.want {
				f, err := r.Read()
				if err != nil || !sameFields(f, want) || r.Line() != int64(i+1) {
					t.Fatalf("record %d: %q, %v at line %d; want %q", i+1, f, err, r.Line(), want)
				}
			}
			for i := 0; i < 2; i++ { // EOF is repeatable
				if f, err := r.Read(); err != io.EOF {
					t.Fatalf("end: %q, %v; want io.EOF", f, err)
				}
			}
			if r.Line() != int64(len(tt.want)) {
				t.Errorf("Line() = %d at the end, want %d", r.Line(), len(tt.want))
			}
		})
	}
}

// The fields of one Read stay intact while they are being used, and reused
// buffers do not leak into the next record.
func TestFieldsDoNotOverlap(t *testing.T) {
	in := encode(t, fields("a\tb", "plain", "c\\d"), fields("x", "y\nz", "w"))
	r := NewReader(bytes.NewReader(in))
	f, _ := r.Read()
	f[0] = append(f[0], "APPENDED"...) // full-capacity slices: append must copy
	if string(f[1]) != "plain" || string(f[2]) != `c\d` {
		t.Fatalf("append to one field changed the others: %q", f)
	}
	f, _ = r.Read()
	if !sameFields(f, fields("x", "y\nz", "w")) {
		t.Fatalf("second record %q", f)
	}
}

func TestParseErrorText(t *testing.T) {
	in := "ok\nok\na\t\\x\n"
	r := NewReader(strings.NewReader(in))
	r.Name = "stdin"
	var err error
	for err == nil {
		_, err = r.Read()
	}
	want := `stdin: line 3, column 2: bad escape: only \\, \t, \n, \r and a whole-field \N are allowed (found \'x')`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	tests := []struct {
		err  *ParseError
		want string
	}{
		{&ParseError{Line: 7, Column: 1, Err: ErrRawCR}, `line 7, column 1: raw carriage return (CRLF line ending?); a CR in a value is written \r`},
		{&ParseError{Name: "part-00000", Line: 12, Err: ErrLineTooLong}, "part-00000: line 12: line too long"},
		{&ParseError{Name: "f", Line: 1, Column: 3, Err: ErrTrailingEsc}, "f: line 1, column 3: line ends inside an escape"},
		{&ParseError{Line: 2, Column: 4, Err: ErrNullInField}, `line 2, column 4: \N (NULL) must be the whole field`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
	r = NewReader(strings.NewReader("a\n"))
	r.Read()
	if got := r.Errorf(2, "size: want %s", "digits").Error(); got != "line 1, column 2: size: want digits" {
		t.Errorf("Errorf: %s", got)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("broken pipe")
}

// Writer errors are sticky: one failed write, then every call is a no-op and
// Flush, End and Err keep returning the first error.
func TestWriterStickyError(t *testing.T) {
	fw := &failWriter{}
	w := NewWriter(fw)
	big := bytes.Repeat([]byte("k"), 100<<10)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = w.Record([][]byte{big, nil, []byte("x")})
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil || err.Error() != "broken pipe" {
		t.Fatalf("got %v, want broken pipe", err)
	}
	calls := fw.n
	w.String("more")
	w.Int(5)
	w.Null()
	if w.End() == nil || w.Flush() == nil || w.Err() == nil {
		t.Fatal("error not sticky")
	}
	if fw.n != calls {
		t.Errorf("%d writes after the error", fw.n-calls)
	}
}

func TestWriterFields(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.String("s\t")
	w.NullString("")
	w.NullString("null") // a real value, written as it is
	w.Int(-42)
	w.Int(9223372036854775807)
	w.Bytes([]byte{})
	w.Bytes(nil)
	w.Null()
	if w.Buffered() == 0 {
		t.Error("Buffered() = 0 before Flush")
	}
	w.End()
	w.Int(1) // a new record starts without a separator
	w.End()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "s\\t\t\\N\tnull\t-42\t9223372036854775807\t\t\\N\t\\N\n1\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

// Fields larger than the Writer's free buffer take the slow path; the output
// must be the same.
func TestWriterLargeFields(t *testing.T) {
	key := bytes.Repeat([]byte("ab\\c\td"), 100<<10)
	var want []byte
	for i := 0; i < 3; i++ {
		if i > 0 {
			want = append(want, '\t')
		}
		want = AppendEscaped(want, key)
	}
	want = append(want, '\n')
	var b1, b2 bytes.Buffer
	w1, w2 := NewWriter(&b1), NewWriter(&b2)
	for i := 0; i < 3; i++ {
		w1.Bytes(key)
		w2.String(string(key))
	}
	w1.End()
	w2.End()
	w1.Flush()
	w2.Flush()
	if !bytes.Equal(b1.Bytes(), want) || !bytes.Equal(b2.Bytes(), want) {
		t.Fatal("large fields encoded differently")
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
		err  error
	}{
		{`\N`, nil, nil},
		{``, []byte{}, nil},
		{`\\N`, []byte(`\N`), nil},
		{`a\tb\nc\rd\\e`, []byte("a\tb\nc\rd\\e"), nil},
		{`a\Nb`, nil, ErrNullInField},
		{`a\x`, nil, ErrBadEscape},
		{`a\`, nil, ErrTrailingEsc},
		{"a\rb", nil, ErrRawCR},
	}
	for _, tt := range tests {
		got, err := Unescape([]byte(tt.in))
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Unescape(%q) error %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || (got == nil) != (tt.want == nil) || !bytes.Equal(got, tt.want) {
			t.Errorf("Unescape(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := Unescape([]byte("a\tb")); err == nil {
		t.Error("Unescape accepted a raw tab")
	}
	for _, f := range [][]byte{allBytes(), nasty1024(), []byte(`\N`), nil, {}} {
		got, err := Unescape(AppendEscaped(nil, f))
		if err != nil || (got == nil) != (f == nil) || !bytes.Equal(got, f) {
			t.Errorf("Unescape(AppendEscaped(%.20q)) = %.20q, %v", f, got, err)
		}
	}
}

func TestIndexSpecial(t *testing.T) {
	for n := 0; n <= 40; n++ {
		for pos := -1; pos < n; pos++ {
			for _, c := range []byte{'\\', '\t', '\n', '\r'} {
				b := bytes.Repeat([]byte{0x80 | byte(n)}, n) // high bytes must not look special
				if pos >= 0 {
					b[pos] = c
				}
				// Controls that need no escaping, just before the special
				// byte, must not hide it.
				if pos > 0 {
					b[pos-1] = 0x1f
				}
				want := pos
				if got := indexSpecial(b); got != want {
					t.Fatalf("indexSpecial(%q) = %d, want %d", b, got, want)
				}
				if got := indexSpecialString(string(b)); got != want {
					t.Fatalf("indexSpecialString(%q) = %d, want %d", b, got, want)
				}
				if pos < 0 {
					break
				}
			}
		}
	}
	for c := 0; c < 256; c++ {
		b := []byte(fmt.Sprintf("0123456789%c0123456789", c))
		want := -1
		if needsEscape(byte(c)) {
			want = 10
		}
		if got := indexSpecial(b); got != want {
			t.Errorf("byte %#x: indexSpecial = %d, want %d", c, got, want)
		}
	}
}

// A read error in the middle of a line is returned as it is, not as io.EOF
// and not as a short last line.
func TestReadErrorMidLine(t *testing.T) {
	boom := errors.New("connection reset")
	r := NewReader(&errAfter{data: []byte("a\tb\npartial"), err: boom})
	if f, err := r.Read(); err != nil || !sameFields(f, fields("a", "b")) {
		t.Fatalf("first record: %q, %v", f, err)
	}
	if f, err := r.Read(); !errors.Is(err, boom) {
		t.Fatalf("second read: %q, %v; want %v", f, err, boom)
	}
}

// Int falls back to a separate write when bufio has less room than the
// longest number.
func TestWriterIntNearFullBuffer(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	big := strings.Repeat("x", 256<<10-5)
	w.String(big)
	w.Int(-9223372036854775808)
	w.End()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := big + "\t-9223372036854775808\n"; buf.String() != want {
		t.Fatalf("got %d bytes ending %q", buf.Len(), buf.String()[buf.Len()-30:])
	}
}
