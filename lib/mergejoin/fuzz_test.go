package mergejoin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/s3pipe/s3pipe/lib/tsv"
)

// FuzzJoin feeds arbitrary bytes to both inputs: the join must end with a
// result or a line-numbered error, never a panic; and what it emits must be
// lines of the source.
func FuzzJoin(f *testing.F) {
	rec := "\te\t1\t2024-01-01 00:00:00\t\\N\t\\N\t\\N\tfalse\tb\n"
	f.Add([]byte("a"+rec+"b"+rec), []byte("b"+rec))
	f.Add([]byte("b"+rec+"a"+rec), []byte(""))
	f.Add([]byte("a\\tb"+rec), []byte("a0"+rec+"a\\\\b"+rec))
	f.Add([]byte("a\te\t1\t\\N\t\\N\tv\ttrue\ttrue\tb\na\te\t1\t\\N\t\\N\tv\tfalse\tfalse\tb\n"), []byte("a"+rec))
	f.Add([]byte("\x1f\x8b\x08"), []byte("\\"))
	f.Fuzz(func(t *testing.T, src, dst []byte) {
		for _, rule := range []Rule{ETagSize, SizeMTime} {
			var out bytes.Buffer
			w := tsv.NewWriter(&out)
			j := New(NewCounters(), Options{Rule: rule, Copy: w, Report: tsv.NewWriter(io.Discard), Extra: tsv.NewWriter(io.Discard)})
			err := j.Join(context.Background(), tsv.NewReader(bytes.NewReader(src)), tsv.NewReader(bytes.NewReader(dst)))
			if err != nil {
				var pe *tsv.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error without a line: %v", err)
				}
				continue
			}
			w.Flush()
			// The last line may lack its newline; the output always has one.
			whole := append(append([]byte("\n"), src...), '\n')
			for _, l := range bytes.SplitAfter(out.Bytes(), []byte("\n")) {
				if len(l) > 0 && !bytes.Contains(whole, append([]byte("\n"), l...)) {
					t.Fatalf("emitted %q, not a source line", l)
				}
			}
		}
	})
}

// FuzzReduce feeds arbitrary bytes to the reducer.
func FuzzReduce(f *testing.F) {
	rec := "\te\t1\t2024-01-01 00:00:00\t\\N\t\\N\t\\N\tfalse\tb\n"
	f.Add([]byte("61\tdst\ta" + rec + "61\tsrc\ta" + rec + "62\tsrc\tb" + rec))
	f.Add([]byte("62\tsrc\tb" + rec + "61\tdst\ta" + rec))
	f.Fuzz(func(t *testing.T, in []byte) {
		j := New(NewCounters(), Options{Copy: tsv.NewWriter(io.Discard), Report: tsv.NewWriter(io.Discard)})
		if err := j.Reduce(context.Background(), tsv.NewReader(bytes.NewReader(in))); err != nil {
			var pe *tsv.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error without a line: %v", err)
			}
		}
	})
}
