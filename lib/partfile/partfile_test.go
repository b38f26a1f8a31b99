package partfile

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/s3pipe/s3pipe/lib/inventory"
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
		{"inventory", "# units\n" + invLine + "/,0\n", []Unit{
			{Line: 2, Kind: Inventory, Inventory: invUnit},
			{Line: 3, Kind: Campanile, Delimiter: "/", Prefix: "0"}}},
		{"inventory escapes", "inventory\tinv\tk\\t\\n\\\\x\t0\t" + invMD5 + "\t" + invSchema + "\n", []Unit{
			{Line: 1, Kind: Inventory, Inventory: inventory.Unit{Bucket: "inv", File: inventory.File{Key: "k\t\n\\x", MD5Checksum: invMD5}, Schema: invSchema}}}},
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

const (
	invMD5    = "d6a5b6ede6d3f1919be81aa77b862e2a"
	invSchema = "Bucket, Key, Size, ETag"
	invLine   = "inventory\tinv-bucket\tinv/src/cfg/data/part-0.csv.gz\t330\t" + invMD5 + "\t" + invSchema + "\n"
)

var invUnit = inventory.Unit{Bucket: "inv-bucket", Schema: invSchema,
	File: inventory.File{Key: "inv/src/cfg/data/part-0.csv.gz", Size: 330, MD5Checksum: invMD5}}

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
		{"inventory fields", "/,0\ninventory\tb\tk\n", false, "parts: line 2: wrong number of columns: got 3, want 6 (inventory unit)", tsv.ErrFieldCount},
		{"inventory bad escape", "inventory\tb\t\\q\t1\t" + invMD5 + "\t" + invSchema + "\n", false, "parts: line 1, column 3: bad escape", tsv.ErrBadEscape},
		{"inventory bad size", "inventory\tb\tk\t-1\t" + invMD5 + "\t" + invSchema + "\n", false, "parts: line 1, column 4: size: want a non-negative integer", nil},
		{"inventory bad md5", "inventory\tb\tk\t1\tabc\t" + invSchema + "\n", false, "parts: line 1, column 5: md5: want 32 hex digits", nil},
		{"inventory null key", "inventory\tb\t\\N\t1\t" + invMD5 + "\t" + invSchema + "\n", false, "parts: line 1, column 3: key: must not be empty or NULL", nil},
		{"inventory schema", "inventory\tb\tk\t1\t" + invMD5 + "\tBucket, Key\n", false, "parts: line 1, column 6: schema: fileSchema \"Bucket, Key\" has no Size field", nil},
		{"inventory mapper column shift", "0\tinventory\tb\tk\t1\tabc\t" + invSchema + "\n", true, "parts: line 1, column 6: md5:", nil},
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
			if !errors.As(err, &pe) || tt.is != nil && !errors.Is(err, tt.is) {
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
		"range\ta\\tb\tx\\n\tz\\r\n", "abc\n", "range\tx\n", "/,0\r\n", invLine, "inventory\tb\tk\n"} {
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
			if u.Line < 1 || (u.Kind != Campanile && u.Kind != Range && u.Kind != Inventory) {
				t.Fatalf("bad unit %+v", u)
			}
			if u.Kind == Inventory {
				// An inventory line round-trips through inventory.Unit.Write.
				var buf bytes.Buffer
				w := tsv.NewWriter(&buf)
				u.Inventory.Write(w)
				w.Flush()
				back, col, err := ParseLine(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
				if err != nil {
					t.Fatalf("re-parse %q: column %d: %v", buf.Bytes(), col, err)
				}
				back.Line = u.Line
				if back != u {
					t.Fatalf("round trip: %+v != %+v", back, u)
				}
				continue
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
