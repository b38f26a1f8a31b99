package record

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/s3pipe/s3pipe/lib/tsv"
)

// benchObjects returns n realistic object records: ~60-byte keys, one in 50
// with bytes that need escaping, unversioned listing.
func benchObjects(n int) []Object {
	objs := make([]Object, n)
	for i := range objs {
		key := fmt.Sprintf("data/warehouse/events/year=2024/month=%02d/day=%02d/part-%08d.parquet", i%12+1, i%28+1, i)
		if i%50 == 0 {
			key = fmt.Sprintf("uploads/Customer Files\\Q%d/report\tdraft-%08d é.csv", i%4+1, i)
		}
		objs[i] = Object{Key: key, ETag: fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15), Size: int64(1024 + i*37),
			MTime: time.Date(2024, 3, 17, 12, 34, i%60, 0, time.UTC), StorageClass: "STANDARD", Bucket: "source-bucket-01"}
	}
	return objs
}

func encodeObjects(b *testing.B, objs []Object) []byte {
	var buf bytes.Buffer
	w := tsv.NewWriter(&buf)
	for i := range objs {
		objs[i].Write(w)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func perRecord(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkObjectWrite encodes object records through Object.Write.
func BenchmarkObjectWrite(b *testing.B) {
	objs := benchObjects(1024)
	b.SetBytes(int64(len(encodeObjects(b, objs)) / len(objs)))
	b.ReportAllocs()
	w := tsv.NewWriter(io.Discard)
	n := 0
	for b.Loop() {
		if err := objs[n%len(objs)].Write(w); err != nil {
			b.Fatal(err)
		}
		n++
	}
	perRecord(b, n)
}

// BenchmarkObjectParse reads and parses object records (tsv.Reader.ReadN +
// ParseObject); the allocations are the strings of the struct.
func BenchmarkObjectParse(b *testing.B) {
	objs := benchObjects(1024)
	data := encodeObjects(b, objs)
	b.SetBytes(int64(len(data) / len(objs)))
	b.ReportAllocs()
	r := tsv.NewReader(&cycle{data: data})
	var o Object
	n := 0
	for b.Loop() {
		f, err := r.ReadN(ObjectColumns)
		if err != nil {
			b.Fatal(err)
		}
		if err := ParseObject(f, &o); err != nil {
			b.Fatal(AtLine(r, err))
		}
		n++
	}
	perRecord(b, n)
}

// BenchmarkObjectRoundTrip parses each record and writes it again, as a tool
// passing objects through does.
func BenchmarkObjectRoundTrip(b *testing.B) {
	objs := benchObjects(1024)
	data := encodeObjects(b, objs)
	b.SetBytes(int64(len(data) / len(objs)))
	b.ReportAllocs()
	r := tsv.NewReader(&cycle{data: data})
	w := tsv.NewWriter(io.Discard)
	var o Object
	n := 0
	for b.Loop() {
		f, err := r.ReadN(ObjectColumns)
		if err != nil {
			b.Fatal(err)
		}
		if err := ParseObject(f, &o); err != nil {
			b.Fatal(err)
		}
		if err := o.Write(w); err != nil {
			b.Fatal(err)
		}
		n++
	}
	perRecord(b, n)
}

// cycle reads data over and over, so a benchmark's Reader never ends.
type cycle struct {
	data []byte
	off  int
}

func (c *cycle) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.off:])
	c.off = (c.off + n) % len(c.data)
	return n, nil
}
