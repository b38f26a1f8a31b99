package mergejoin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/s3pipe/s3pipe/lib/tsv"
)

// benchListings returns n-row source and destination listings that differ
// in about 1% of keys, like scripts/bench-diff's.
func benchListings(n int) (src, dst []byte) {
	var sb, db bytes.Buffer
	line := func(b *bytes.Buffer, key string, etag, size int) {
		fmt.Fprintf(b, "%s\t%032x\t%d\t2024-03-17 12:34:56\tSTANDARD\t\\N\t\\N\tfalse\tsource-bucket-01\n", key, etag, size)
	}
	for i := range n {
		key := fmt.Sprintf("data/warehouse/events/year=2024/month=%02d/part-%010d.parquet", i*12/n+1, i)
		if i%50 == 0 {
			key += `\tdraft`
		}
		line(&sb, key, i, 1024+i)
		switch i % 100 {
		case 17: // missing
		case 42: // changed
			line(&db, key, i+1, 1024+i)
		default:
			line(&db, key, i, 1024+i)
		}
	}
	return sb.Bytes(), db.Bytes()
}

// BenchmarkJoin measures the merge loop over in-memory listings (parsing
// included): rows/s counts rows of both inputs.
func BenchmarkJoin(b *testing.B) {
	const n = 100_000
	src, dst := benchListings(n)
	b.SetBytes(int64(len(src) + len(dst)))
	b.ReportAllocs()
	sr, dr := bytes.NewReader(src), bytes.NewReader(dst)
	rows := 0
	for b.Loop() {
		sr.Reset(src)
		dr.Reset(dst)
		set := NewCounters()
		j := New(set, Options{Copy: tsv.NewWriter(io.Discard)})
		if err := j.Join(context.Background(), tsv.NewReader(sr), tsv.NewReader(dr)); err != nil {
			b.Fatal(err)
		}
		rows += int(set.Get(CounterSrcRecords) + set.Get(CounterDstRecords))
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
}
