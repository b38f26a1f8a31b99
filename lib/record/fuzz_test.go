package record

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/s3pipe/s3pipe/lib/tsv"
)

// goldenSeeds returns the lines of one section of testdata/records.golden,
// each with a newline, plus a few broken variants of the first.
func goldenSeeds(f *testing.F, section string) [][]byte {
	data, err := os.ReadFile(filepath.Join("testdata", "records.golden"))
	if err != nil {
		f.Fatal(err)
	}
	var seeds [][]byte
	in := false
	for _, line := range bytes.Split(data, []byte("\n")) {
		if s, ok := bytes.CutPrefix(line, []byte("# ")); ok {
			in = string(s) == section
			continue
		}
		if in && len(line) > 0 {
			seeds = append(seeds, append(line, '\n'))
		}
	}
	first := bytes.TrimSuffix(seeds[0], []byte("\n"))
	seeds = append(seeds,
		bytes.Replace(first, []byte("\t"), []byte("\t\\N\t"), 1),      // an extra NULL column
		bytes.Replace(first, []byte("\t"), []byte("\\x\t"), 1),        // a bad escape
		bytes.Replace(first, []byte("2024"), []byte("2023-02-29"), 1), // a broken date
		append(append([]byte("0\t"), first...), "\r\n"...),            // a Hadoop key and CRLF
		[]byte{}, []byte("\n"), []byte("\\N\n"))
	return seeds
}

// fuzzParse is the body of the Parse fuzz targets: arbitrary bytes read as
// records never make parse panic; a parse error names a column that exists;
// and a record that parses writes back to a line that parses to the same
// struct and writes back identically.
func fuzzParse[T comparable](f *testing.F, section string, cols int, parse func([][]byte, *T) error,
	write func(*T, *tsv.Writer) error) {
	for _, s := range goldenSeeds(f, section) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := tsv.NewReader(bytes.NewReader(data))
		for n := 0; n <= len(data)+1; n++ {
			fields, err := r.Read()
			if err == io.EOF {
				return
			}
			if err != nil {
				continue
			}
			var v T
			if err := parse(fields, &v); err != nil {
				var ce *ColumnError
				if !errors.As(err, &ce) || ce.Column < 0 || ce.Column > cols {
					t.Fatalf("parse error %v is not a ColumnError within %d columns", err, cols)
				}
				if ce.Column > 0 && len(fields) != cols {
					t.Fatalf("column error %v on a record of %d columns", err, len(fields))
				}
				var pe *tsv.ParseError
				if !errors.As(AtLine(r, err), &pe) || pe.Line != r.Line() || pe.Column != ce.Column {
					t.Fatalf("AtLine(%v) = %v", err, AtLine(r, err))
				}
				continue
			}
			line := writeLine(t, func(w *tsv.Writer) error { return write(&v, w) })
			var again T
			if err := parse(readFields(t, line, cols), &again); err != nil {
				t.Fatalf("%+v wrote %q, which does not parse: %v", v, line, err)
			}
			if again != v {
				t.Fatalf("round trip through %q:\n got %+v\nwant %+v", line, again, v)
			}
			if line2 := writeLine(t, func(w *tsv.Writer) error { return write(&again, w) }); !bytes.Equal(line2, line) {
				t.Fatalf("rewrite is not stable: %q then %q", line, line2)
			}
		}
		t.Fatal("reader does not reach the end of its input")
	})
}

func FuzzParseObject(f *testing.F) {
	fuzzParse(f, "object", ObjectColumns, ParseObject, (*Object).Write)
}

func FuzzParsePlan(f *testing.F) {
	fuzzParse(f, "plan", PlanColumns, ParsePlan, (*Plan).Write)
}

func FuzzParseResult(f *testing.F) {
	fuzzParse(f, "result", ResultColumns, ParseResult, (*Result).Write)
}

func FuzzParseReport(f *testing.F) {
	fuzzParse(f, "report", ReportColumns, ParseReport, (*Report).Write)
}
