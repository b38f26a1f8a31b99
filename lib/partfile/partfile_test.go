package partfile

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/s3pipe/s3pipe/lib/tsv"
)

func readAll(t *testing.T, in string, skipKey bool) ([]Unit, error) {
	t.Helper()
	r := tsv.NewReader(strings.NewReader(in))
	r.Name = "parts"
	r.SkipKey = skipKey
	return NewReader(r).ReadAll()
}

func TestRead(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Unit
	}{
		{"campanile", "/,0\n,000/\n", []Unit{
			{Line: 1, Kind: Campanile, Delimiter: "/", Prefix: "0"},
			{Line: 2, Kind: Campanile, Prefix: "000/"}}},
		{"first comma splits", "/,a,b\n", []Unit{{Line: 1, Kind: Campanile, Delimiter: "/", Prefix: "a,b"}}},
		{"empty both", ",\n", []Unit{{Line: 1, Kind: Campanile}}},
		{"comments and blanks", "# hi\n\n/,x\n#,y\n", []Unit{{Line: 3, Kind: Campanile, Delimiter: "/", Prefix: "x"}}},
		{"no final newline", "/,x", []Unit{{Line: 1, Kind: Campanile, Delimiter: "/", Prefix: "x"}}},
		{"campanile raw tab", "\t,a\tb\n", []Unit{{Line: 1, Kind: Campanile, Delimiter: "\t", Prefix: "a\tb"}}},
		{"range", "range\tp/\t\tp/m\nrange\tp/\tp/m\t\\N\n", []Unit{
			{Line: 1, Kind: Range, Prefix: "p/", Until: "p/m", HasUntil: true},
			{Line: 2, Kind: Range, Prefix: "p/", After: "p/m"}}},
		{"range escapes", "range\t\t\\\\N\ta\\t\\n\\r\\\\\n", []Unit{
			{Line: 1, Kind: Range, After: `\N`, Until: "a\t\n\r\\", HasUntil: true}}},
		{"mixed", "/,0\nrange\t\ta\t\\N\n", []Unit{
			{Line: 1, Kind: Campanile, Delimiter: "/", Prefix: "0"},
			{Line: 2, Kind: Range, After: "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.in, false)
			if err != nil {
				t.Fatal(err)
			}
			if !equalUnits(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
			// Mapper mode: every line carries a byte offset and a tab.
			var mapped strings.Builder
			off := 0
			for _, line := range strings.SplitAfter(tt.in, "\n") {
				if line == "" {
					continue
				}
				mapped.WriteString(strings.Repeat("7", off%3+1) + "\t" + line)
				off += len(line)
			}
			got, err = readAll(t, mapped.String(), true)
			if err != nil {
				t.Fatalf("mapper mode: %v", err)
			}
			if !equalUnits(got, tt.want) {
				t.Fatalf("mapper mode: got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func equalUnits(a, b []Unit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name, in string
		skipKey  bool
		want     string
		is       error
	}{
		{"no comma", "/,0\nabc\n", false, "parts: line 2: campanile line needs a comma", ErrNoComma},
		{"crlf", "/,0\r\n", false, "parts: line 1: line ends with a carriage return", ErrTrailingCR},
		{"range fields", "# c\nrange\ta\tb\n", false, "parts: line 2: range line needs 4 tab-separated fields", ErrRangeFields},
		{"range bad escape", "range\tp\t\\x\t\\N\n", false, "parts: line 1, column 3: bad escape", tsv.ErrBadEscape},
		{"range null prefix", "range\t\\N\t\t\\N\n", false, "parts: line 1, column 2: PREFIX must not be NULL", ErrNullField},
		{"range null after", "range\t\t\\N\t\\N\n", false, "parts: line 1, column 3: AFTER must not be NULL", ErrNullField},
		{"range empty", "range\t\tb\ta\n", false, "parts: line 1, column 4: range is empty", ErrRangeEmpty},
		{"range equal", "range\t\tb\tb\n", false, "parts: line 1, column 4: range is empty", ErrRangeEmpty},
		{"mapper no offset", "/,0\n", true, "parts: line 1, column 1: expected a Hadoop streaming byte-offset key", ErrNoOffset},
		{"mapper column shift", "0\trange\tp\t\\x\t\\N\n", true, "parts: line 1, column 4: bad escape", tsv.ErrBadEscape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(t, tt.in, tt.skipKey)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %q, want prefix %q", err, tt.want)
			}
			var pe *tsv.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, tt.is) {
				t.Fatalf("error %#v is not a ParseError wrapping %v", err, tt.is)
			}
		})
	}
}

func TestWriteRangeRoundTrip(t *testing.T) {
	units := []Unit{
		{Kind: Range, Prefix: "a\tb", After: "", Until: "\\N", HasUntil: true},
		{Kind: Range, Prefix: "", After: "\\N", Until: "a\n\r日本😀", HasUntil: true},
		{Kind: Range, Prefix: "x", After: "y"},
	}
	var buf bytes.Buffer
	w := tsv.NewWriter(&buf)
	for _, u := range units {
		WriteRange(w, u)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, buf.String(), false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i].Line = 0
	}
	if !equalUnits(got, units) {
		t.Fatalf("got %+v\nwant %+v", got, units)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"/,0\n", ",000/\n", "# c\n\n", "range\tp\t\tp/m\n", "range\t\t\\\\N\t\\N\n",
		"range\ta\\tb\tx\\n\tz\\r\n", "abc\n", "range\tx\n", "/,0\r\n"} {
		f.Add([]byte(s), false)
		f.Add([]byte("12\t"+s), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, skipKey bool) {
		r := tsv.NewReader(bytes.NewReader(in))
		r.SkipKey = skipKey
		p := NewReader(r)
		for {
			u, err := p.Read()
			if err == io.EOF {
				return
			}
			if err != nil {
				var pe *tsv.ParseError
				if !errors.As(err, &pe) || pe.Line < 1 {
					t.Fatalf("error without line: %v", err)
				}
				return // the reader stops at the first bad line
			}
			if u.Line < 1 || (u.Kind != Campanile && u.Kind != Range) {
				t.Fatalf("bad unit %+v", u)
			}
			if u.Kind != Range {
				continue
			}
			if u.HasUntil && u.After >= u.Until {
				t.Fatalf("empty range accepted: %+v", u)
			}
			// A range line round-trips through WriteRange.
			var buf bytes.Buffer
			w := tsv.NewWriter(&buf)
			WriteRange(w, u)
			w.Flush()
			back, col, err := ParseLine(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
			if err != nil {
				t.Fatalf("re-parse %q: column %d: %v", buf.Bytes(), col, err)
			}
			back.Line = u.Line
			if back != u {
				t.Fatalf("round trip: %+v != %+v", back, u)
			}
		}
	})
}
