package record

import (
	"io"

	"github.com/s3pipe/s3pipe/lib/tsv"
)

// ReadAll reads every record of one type from r with parse (ParseObject,
// ParsePlan, ParseResult or ParseReport); an error names its line and
// column. For tests and small files: it holds every record in memory.
func ReadAll[T any](r io.Reader, parse func([][]byte, *T) error) ([]T, error) {
	in := tsv.NewReader(r)
	var out []T
	for {
		f, err := in.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		var x T
		if err := parse(f, &x); err != nil {
			return out, AtLine(in, err)
		}
		out = append(out, x)
	}
}
