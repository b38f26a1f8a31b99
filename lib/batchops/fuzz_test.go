package batchops

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/s3pipe/s3pipe/lib/record"
)

// FuzzManifestRoundTrip: any key and a version id without CSV specials
// survive writing a manifest and reading it back.
func FuzzManifestRoundTrip(f *testing.F) {
	for _, k := range []string{"a b+c", "日本/été", "tab\tnl\n", `\N`, "100%", ",\""} {
		f.Add(k, "v1")
	}
	f.Fuzz(func(t *testing.T, key, version string) {
		if key == "" || version == "" || strings.ContainsAny(version, ",\"\r\n") {
			return
		}
		var buf bytes.Buffer
		w := NewManifestWriter(&buf, true, "b")
		if err := w.Write(&record.Object{Key: key, VersionID: version}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		if strings.Count(buf.String(), "\n") != 1 {
			t.Fatalf("key %q gave %q", key, buf.String())
		}
		e, err := NewManifestReader(&buf).Read()
		if err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		if e.Key != key || e.Bucket != "b" || e.VersionID != version {
			t.Fatalf("round trip: %q %q -> %+v", key, version, e)
		}
	})
}

func FuzzManifestReader(f *testing.F) {
	b, _ := os.ReadFile("testdata/manifest-versions.csv")
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewManifestReader(bytes.NewReader(in))
		for i := 0; i < 1000; i++ {
			e, err := r.Read()
			if err != nil {
				return
			}
			if e.Bucket == "" || e.Key == "" {
				t.Fatalf("empty bucket or key accepted: %+v", e)
			}
		}
	})
}

func FuzzReportReader(f *testing.F) {
	for _, p := range []string{"testdata/report/failed.csv", "testdata/report/succeeded.csv"} {
		b, _ := os.ReadFile(p)
		f.Add(b, false)
	}
	f.Fuzz(func(t *testing.T, in []byte, raw bool) {
		r := NewReportReader(bytes.NewReader(in))
		r.RawKeys = raw
		for i := 0; i < 1000; i++ {
			task, err := r.Read()
			if err == io.EOF || err != nil {
				return
			}
			if task.Bucket == "" || task.Key == "" || task.HTTPStatus != 0 && (task.HTTPStatus < 100 || task.HTTPStatus > 599) {
				t.Fatalf("bad task accepted: %+v", task)
			}
		}
	})
}

func FuzzParseReportManifest(f *testing.F) {
	b, _ := os.ReadFile("testdata/report/manifest.json")
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ParseReportManifest(bytes.NewReader(in))
		if err != nil {
			return
		}
		for _, r := range m.Results {
			if r.Bucket == "" || r.Key == "" || len(r.MD5Checksum) != 32 {
				t.Fatalf("bad result accepted: %+v", r)
			}
		}
	})
}

func BenchmarkManifestWrite(b *testing.B) {
	o := record.Object{Key: "photos/2024/01/red flower+1 日本.jpg", VersionID: "PZ9ibn9D5lP6p298B7S9_ceqx1n5EJ0p", Bucket: "b"}
	w := NewManifestWriter(io.Discard, true, "")
	for i := 0; i < b.N; i++ {
		if err := w.Write(&o); err != nil {
			b.Fatal(err)
		}
	}
}
