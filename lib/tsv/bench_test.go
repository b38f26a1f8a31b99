package tsv

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"testing"
)

// benchRecords returns n realistic object records (9 columns, ~60-byte
// keys, about one key in 50 with a byte that needs escaping) as raw fields.
func benchRecords(n int) [][][]byte {
	recs := make([][][]byte, n)
	for i := range recs {
		key := fmt.Sprintf("data/warehouse/events/year=2024/month=%02d/day=%02d/part-%08d.parquet", i%12+1, i%28+1, i)
		if i%50 == 0 {
			key = fmt.Sprintf("uploads/Customer Files\\Q%d/report\tdraft-%08d é.csv", i%4+1, i)
		}
		recs[i] = [][]byte{
			[]byte(key),
			[]byte(fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15)),
			[]byte(strconv.Itoa(1024 + i*37)),
			[]byte("2024-03-17 12:34:56"),
			[]byte("STANDARD"),
			nil,
			nil,
			[]byte("false"),
			[]byte("source-bucket-01"),
		}
	}
	return recs
}

func encodeAll(recs [][][]byte) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range recs {
		w.Record(r)
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func reportPerRecord(b *testing.B, records int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEncode writes records with Writer.Record into a discarding sink.
func BenchmarkEncode(b *testing.B) {
	recs := benchRecords(1024)
	data := encodeAll(recs)
	b.SetBytes(int64(len(data)) / int64(len(recs)))
	b.ReportAllocs()
	w := NewWriter(io.Discard)
	n := 0
	for b.Loop() {
		w.Record(recs[n%len(recs)])
		n++
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	reportPerRecord(b, n)
}

// BenchmarkDecode reads records with Reader.Read from an in-memory stream.
func BenchmarkDecode(b *testing.B) {
	recs := benchRecords(1024)
	data := encodeAll(recs)
	b.SetBytes(int64(len(data)) / int64(len(recs)))
	b.ReportAllocs()
	rd := bytes.NewReader(data)
	r := NewReader(rd)
	n := 0
	for b.Loop() {
		f, err := r.Read()
		if err == io.EOF {
			rd.Reset(data)
			r.br.Reset(rd)
			f, err = r.Read()
		}
		if err != nil || len(f) != 9 {
			b.Fatalf("read: %v (%d fields)", err, len(f))
		}
		n++
	}
	reportPerRecord(b, n)
}

// BenchmarkRoundTrip decodes each record and encodes it again, the work of a
// tool that passes records through.
func BenchmarkRoundTrip(b *testing.B) {
	recs := benchRecords(1024)
	data := encodeAll(recs)
	b.SetBytes(int64(len(data)) / int64(len(recs)))
	b.ReportAllocs()
	rd := bytes.NewReader(data)
	r := NewReader(rd)
	w := NewWriter(io.Discard)
	n := 0
	for b.Loop() {
		f, err := r.Read()
		if err == io.EOF {
			rd.Reset(data)
			r.br.Reset(rd)
			f, err = r.Read()
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Record(f); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	reportPerRecord(b, n)
}
