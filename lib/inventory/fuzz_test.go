package inventory

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

func FuzzParseManifest(f *testing.F) {
	for _, r := range []string{"good", "corrupt"} {
		b, err := os.ReadFile(filepath.Join("testdata", r, manifestPath))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"fileFormat":"ORC"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(bytes.NewReader(b))
		if err != nil {
			return
		}
		// A parsed manifest's schema always locates the four required fields.
		if m.Schema.Bucket < 0 || m.Schema.Key < 0 || m.Schema.Size < 0 || m.Schema.ETag < 0 {
			t.Fatalf("schema without required fields accepted: %+v", m.Schema)
		}
		_ = m.DataBucket()
	})
}

// FuzzReadRows feeds arbitrary CSV text (gzip-compressed) to the reader: it
// must return rows or an error, never panic, and every row is either emitted
// or counted as skipped.
func FuzzReadRows(f *testing.F) {
	for _, s := range []string{"rows-0.csv", "rows-1.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "")
	}
	f.Add([]byte(`"b","%zz","1","","","","","","","","","","","","","","",""`+"\n"), "x")
	sc, err := ParseSchema(fullSchema)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, csvText []byte, prefix string) {
		data := gz(t, string(csvText))
		r := &Reader{Fetcher: memFetcher{"b/f": data}, Bucket: "b", Verify: VerifyStream,
			Filter: Filter{Prefix: prefix, ReplicationStatus: []string{"", "FAILED"}, LatestOnly: true}}
		n := int64(0)
		err := r.ReadFile(context.Background(), sc, fileOf("f", data), func(o *record.Object) error {
			n++
			if !strings.HasPrefix(o.Key, prefix) {
				t.Fatalf("emitted key %q outside prefix %q", o.Key, prefix)
			}
			return nil
		})
		if err != nil {
			return
		}
		st := r.Stats
		if st.Emitted != n || st.Emitted+st.SkippedPrefix+st.SkippedNotLatest+st.SkippedReplication+st.SkippedStorageClass+st.SkippedDeleteMarker != st.Rows {
			t.Fatalf("row accounting: %+v, emitted %d", st, n)
		}
	})
}

const fullSchema = "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded, ReplicationStatus, EncryptionStatus, ObjectLockRetainUntilDate, ObjectLockMode, ObjectLockLegalHoldStatus, IntelligentTieringAccessTier, BucketKeyStatus, ChecksumAlgorithm"

// FuzzKeyRoundTrip: any key S3 could hold, URL-encoded the way the inventory
// encodes it (query encoding: space as +), comes back byte for byte.
func FuzzKeyRoundTrip(f *testing.F) {
	for _, k := range []string{"a b+c", "日本/été", "tab\tnl\ncr\r", `\N`, "%2B", "x,y\"z"} {
		f.Add(k)
	}
	sc, err := ParseSchema("Bucket, Key, Size, ETag")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key string) {
		row := fmt.Sprintf("%q,%q,%q,%q\n", "b", url.QueryEscape(key), "1", "e")
		row = strings.ReplaceAll(row, `\"`, `""`) // Go quoting -> CSV quoting (QueryEscape output has no backslash or quote)
		data := gz(t, row)
		r := &Reader{Fetcher: memFetcher{"b/f": data}, Bucket: "b"}
		var got []record.Object
		if err := r.ReadFile(context.Background(), sc, fileOf("f", data), collect(&got)); err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		if len(got) != 1 || got[0].Key != key {
			t.Fatalf("key %q came back as %+v", key, got)
		}
	})
}

func FuzzParseUnit(f *testing.F) {
	f.Add("inventory\tb\tk\t1\t0123456789abcdef0123456789abcdef\tBucket, Key, Size, ETag\n")
	f.Add("inventory\tb\t\\N\t1\tx\ty\n")
	f.Fuzz(func(t *testing.T, line string) {
		tr := tsv.NewReader(strings.NewReader(line))
		fields, err := tr.Read()
		if err != nil {
			return
		}
		u, err := ParseUnit(fields)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		w := tsv.NewWriter(&buf)
		if err := u.Write(w); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		f2, err := tsv.NewReader(&buf).Read()
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		u2, err := ParseUnit(f2)
		if err != nil || u2 != u {
			t.Fatalf("round trip: %+v -> %+v (%v)", u, u2, err)
		}
	})
}

func BenchmarkReadRows(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&sb, `"src","dir%%2Fkey+%d","v%d","true","false","%d","2024-01-02T03:04:05.000Z","0123456789abcdef0123456789abcdef","STANDARD","false","","SSE-S3","","","","","",""`+"\n", i, i, i)
	}
	data := gz(b, sb.String())
	sc, _ := ParseSchema(fullSchema)
	fe := memFetcher{"b/f": data}
	b.SetBytes(int64(sb.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := &Reader{Fetcher: fe, Bucket: "b", Verify: VerifyStream}
		if err := r.ReadFile(context.Background(), sc, fileOf("f", data), func(*record.Object) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "rows/s")
}
