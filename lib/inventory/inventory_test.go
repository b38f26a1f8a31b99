package inventory

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

const manifestPath = "src-bucket/cfg/2024-01-02T00-00Z/manifest.json"

func loadManifest(t testing.TB, report string) (*Manifest, DirFetcher) {
	t.Helper()
	p := filepath.Join("testdata", report, manifestPath)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ParseManifest(f)
	if err != nil {
		t.Fatalf("ParseManifest(%s): %v", p, err)
	}
	return m, DirFetcher{Dir: filepath.Dir(p)}
}

func ts(s string) time.Time {
	t, err := time.Parse(record.TimeLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The rows of testdata/rows-0.csv and rows-1.csv, decoded by hand from the
// fixture sources.
var fixtureObjects = []record.Object{
	{Key: "plain.txt", ETag: "0123456789abcdef0123456789abcdef", Size: 12, MTime: ts("2024-01-02 03:04:05"), StorageClass: "STANDARD", VersionID: "v1", IsLatest: record.BoolTrue, Bucket: "src-bucket"},
	{Key: "a b+c.txt", ETag: "11111111111111111111111111111111-2", Size: 5, MTime: ts("2024-01-02 03:04:06"), StorageClass: "STANDARD", VersionID: "v2", IsLatest: record.BoolTrue, Bucket: "src-bucket"},
	{Key: "日本/été", ETag: "22222222222222222222222222222222", Size: 7, MTime: ts("2024-01-03 00:00:00"), StorageClass: "STANDARD_IA", VersionID: "v3", IsLatest: record.BoolTrue, Bucket: "src-bucket"},
	{Key: "comma,key,2", ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 0, MTime: ts("2024-01-03 00:00:01"), StorageClass: "STANDARD", VersionID: "v4", IsLatest: record.BoolTrue, Bucket: "src-bucket"},
	{Key: "tab\tnl\ncr\rbs\\", ETag: "33333333333333333333333333333333", Size: 3, MTime: ts("2024-01-03 00:00:02"), StorageClass: "STANDARD", VersionID: "v5", IsLatest: record.BoolTrue, Bucket: "src-bucket"},
	{Key: "old/version", ETag: "44444444444444444444444444444444", Size: 9, MTime: ts("2023-12-31 23:59:59"), StorageClass: "STANDARD", VersionID: "v6", IsLatest: record.BoolFalse, Bucket: "src-bucket"},
	{Key: "old/version", MTime: ts("2024-01-04 00:00:00"), VersionID: "v7", IsLatest: record.BoolTrue, DeleteMarker: true, Bucket: "src-bucket"},
	{Key: "cold/archive.bin", ETag: "55555555555555555555555555555555", Size: 1048576, MTime: ts("2024-01-05 12:00:00"), StorageClass: "GLACIER", VersionID: "null", IsLatest: record.BoolTrue, Bucket: "src-bucket"},
	{Key: `quote"and%pct`, ETag: "66666666666666666666666666666666", Size: 1, MTime: ts("2024-01-06 00:00:00"), StorageClass: "STANDARD", VersionID: "v9", IsLatest: record.BoolTrue, Bucket: "src-bucket"},
}

func collect(out *[]record.Object) func(*record.Object) error {
	return func(o *record.Object) error { *out = append(*out, *o); return nil }
}

func keysOf(os []record.Object) []string {
	var ks []string
	for _, o := range os {
		ks = append(ks, o.Key+"@"+o.VersionID)
	}
	return ks
}

func TestParseManifestFixture(t *testing.T) {
	m, _ := loadManifest(t, "good")
	if m.SourceBucket != "src-bucket" || m.DataBucket() != "inv-bucket" || len(m.Files) != 2 {
		t.Fatalf("manifest: %+v", m)
	}
	sc := m.Schema
	if sc.Bucket != 0 || sc.Key != 1 || sc.VersionID != 2 || sc.Size != 5 || sc.ETag != 7 || sc.ReplicationStatus != 10 || len(sc.Columns) != 18 {
		t.Fatalf("schema: %+v", sc)
	}
}

func TestParseManifestErrors(t *testing.T) {
	ok := `"files":[{"key":"k","size":1,"MD5checksum":"0123456789abcdef0123456789abcdef"}]`
	tests := []struct {
		name, json, want string
		unsupported      bool
	}{
		{"orc", `{"fileFormat":"ORC","fileSchema":"struct<bucket:string>",` + ok + `}`, "ORC is not supported; configure the inventory with CSV", true},
		{"parquet", `{"fileFormat":"Parquet","fileSchema":"message s3.inventory {}",` + ok + `}`, "Parquet is not supported", true},
		{"no format", `{"fileSchema":"Bucket, Key, Size, ETag",` + ok + `}`, "no fileFormat", false},
		{"not json", `{"fileFormat":`, "not valid JSON", false},
		{"no etag", `{"fileFormat":"CSV","fileSchema":"Bucket, Key, Size",` + ok + `}`, "has no ETag field", false},
		{"no size", `{"fileFormat":"CSV","fileSchema":"Bucket, Key, ETag",` + ok + `}`, "has no Size field", false},
		{"twice", `{"fileFormat":"CSV","fileSchema":"Bucket, Key, Key, Size, ETag",` + ok + `}`, "Key appears twice", false},
		{"empty name", `{"fileFormat":"CSV","fileSchema":"Bucket,, Key, Size, ETag",` + ok + `}`, "empty field name at column 2", false},
		{"bad md5", `{"fileFormat":"CSV","fileSchema":"Bucket, Key, Size, ETag","files":[{"key":"k","MD5checksum":"xyz"}]}`, "files[0] (k): MD5checksum", false},
		{"no key", `{"fileFormat":"CSV","fileSchema":"Bucket, Key, Size, ETag","files":[{"MD5checksum":"0123456789abcdef0123456789abcdef"}]}`, "files[0] has no key", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest(strings.NewReader(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if errors.Is(err, ErrUnsupportedFormat) != tt.unsupported {
				t.Fatalf("errors.Is(ErrUnsupportedFormat) = %v, want %v", !tt.unsupported, tt.unsupported)
			}
		})
	}
}

func TestReadAllFixture(t *testing.T) {
	for _, v := range []Verify{VerifyFirst, VerifyStream, VerifyNone} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			m, fe := loadManifest(t, "good")
			r := &Reader{Fetcher: fe, Bucket: m.DataBucket(), Verify: v}
			var got []record.Object
			if err := r.ReadAll(context.Background(), m, collect(&got)); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(fixtureObjects) {
				t.Fatalf("got %d objects, want %d: %q", len(got), len(fixtureObjects), keysOf(got))
			}
			for i := range got {
				if got[i] != fixtureObjects[i] {
					t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], fixtureObjects[i])
				}
			}
			if r.Stats.Files != 2 || r.Stats.Rows != 9 || r.Stats.Emitted != 9 || r.Stats.Bytes != m.Files[0].Size+m.Files[1].Size {
				t.Errorf("stats %+v", r.Stats)
			}
		})
	}
}

// The records the reader emits must survive the TSV record codec (keys with
// tab, newline, CR and backslash included).
func TestFixtureRecordsRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := tsv.NewWriter(&buf)
	for i := range fixtureObjects {
		if err := fixtureObjects[i].Write(w); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r := tsv.NewReader(&buf)
	for i := range fixtureObjects {
		f, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		var o record.Object
		if err := record.ParseObject(f, &o); err != nil {
			t.Fatal(record.AtLine(r, err))
		}
		if o != fixtureObjects[i] {
			t.Errorf("row %d: got %+v want %+v", i, o, fixtureObjects[i])
		}
	}
}

func TestFilters(t *testing.T) {
	tests := []struct {
		name   string
		filter Filter
		want   []string
		stats  Stats
	}{
		{"never replicated or failed", Filter{ReplicationStatus: ParseStatusList("NONE,FAILED")},
			[]string{"plain.txt@v1", "a b+c.txt@v2", "tab\tnl\ncr\rbs\\@v5", "old/version@v6", "old/version@v7", "cold/archive.bin@null"},
			Stats{SkippedReplication: 3}},
		{"failed latest objects only", Filter{ReplicationStatus: ParseStatusList("none, failed"), LatestOnly: true, SkipDeleteMarkers: true},
			[]string{"plain.txt@v1", "a b+c.txt@v2", "tab\tnl\ncr\rbs\\@v5", "cold/archive.bin@null"},
			Stats{SkippedReplication: 3, SkippedNotLatest: 1, SkippedDeleteMarker: 1}},
		{"glacier", Filter{StorageClasses: []string{"glacier"}}, []string{"cold/archive.bin@null"}, Stats{SkippedStorageClass: 8}},
		{"prefix", Filter{Prefix: "old/"}, []string{"old/version@v6", "old/version@v7"}, Stats{SkippedPrefix: 7}},
		{"unicode prefix", Filter{Prefix: "日本/"}, []string{"日本/été@v3"}, Stats{SkippedPrefix: 8}},
		{"latest", Filter{LatestOnly: true}, nil, Stats{SkippedNotLatest: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, fe := loadManifest(t, "good")
			r := &Reader{Fetcher: fe, Bucket: "inv-bucket", Filter: tt.filter}
			var got []record.Object
			if err := r.ReadAll(context.Background(), m, collect(&got)); err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && strings.Join(keysOf(got), "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q\nwant %q", keysOf(got), tt.want)
			}
			st := r.Stats
			if st.SkippedPrefix != tt.stats.SkippedPrefix || st.SkippedNotLatest != tt.stats.SkippedNotLatest ||
				st.SkippedDeleteMarker != tt.stats.SkippedDeleteMarker || st.SkippedReplication != tt.stats.SkippedReplication ||
				st.SkippedStorageClass != tt.stats.SkippedStorageClass {
				t.Errorf("stats %+v, want skips %+v", st, tt.stats)
			}
			skipped := st.SkippedPrefix + st.SkippedNotLatest + st.SkippedDeleteMarker + st.SkippedReplication + st.SkippedStorageClass
			if st.Rows != 9 || st.Emitted != int64(len(got)) || st.Emitted+skipped != st.Rows {
				t.Errorf("every row must be emitted or counted as skipped: %+v (got %d)", st, len(got))
			}
		})
	}
}

func TestFilterNeedsColumn(t *testing.T) {
	sc, err := ParseSchema("Bucket, Key, Size, ETag")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Filter{{ReplicationStatus: []string{"FAILED"}}, {StorageClasses: []string{"GLACIER"}}} {
		r := &Reader{Fetcher: memFetcher{}, Bucket: "b", Filter: f}
		err := r.ReadFile(context.Background(), sc, File{Key: "k"}, func(*record.Object) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "which this inventory does not include") {
			t.Errorf("filter %+v: err = %v", f, err)
		}
	}
}

// A corrupt or replaced data file is detected; what is emitted before the
// error depends on the verify mode.
func TestVerify(t *testing.T) {
	tests := []struct {
		report  string
		verify  Verify
		emitted int    // rows emitted before the error
		want    string // error substring; empty = no error
	}{
		{"corrupt", VerifyFirst, 5, "part-1.csv.gz: MD5"},
		{"corrupt", VerifyStream, -1, "part-1.csv.gz"}, // gzip, CSV or MD5 error, after some rows
		{"replaced", VerifyFirst, 5, "part-1.csv.gz: MD5"},
		{"replaced", VerifyStream, 9, "part-1.csv.gz: MD5"},
		{"replaced", VerifyNone, 9, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.report, tt.verify), func(t *testing.T) {
			m, fe := loadManifest(t, tt.report)
			r := &Reader{Fetcher: fe, Bucket: "inv-bucket", Verify: tt.verify}
			var got []record.Object
			err := r.ReadAll(context.Background(), m, collect(&got))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "s3://inv-bucket/inv/src-bucket/cfg/data/") {
				t.Fatalf("err = %v, want it to name the file and contain %q", err, tt.want)
			}
			if tt.emitted >= 0 && len(got) != tt.emitted {
				t.Fatalf("emitted %d rows, want %d", len(got), tt.emitted)
			}
		})
	}
}

// memFetcher serves objects from memory.
type memFetcher map[string][]byte

func (m memFetcher) Open(_ context.Context, bucket, key string) (io.ReadCloser, error) {
	b, ok := m[bucket+"/"+key]
	if !ok {
		return nil, fmt.Errorf("no such object s3://%s/%s", bucket, key)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func gz(t testing.TB, s string) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func fileOf(key string, data []byte) File {
	sum := md5.Sum(data)
	return File{Key: key, Size: int64(len(data)), MD5Checksum: hex.EncodeToString(sum[:])}
}

func TestRowErrors(t *testing.T) {
	sc, err := ParseSchema("Bucket, Key, Size, LastModifiedDate, ETag, IsLatest")
	if err != nil {
		t.Fatal(err)
	}
	good := `"b","k1","1","2024-01-01T00:00:00.000Z","e","true"` + "\n"
	tests := []struct{ name, row, want string }{
		{"bad escape", `"b","bad%zz","1","","e",""`, "line 2: column 2 (Key): bad URL encoding"},
		{"bad size", `"b","k","x","","e",""`, "line 2: column 3 (Size)"},
		{"negative size", `"b","k","-1","","e",""`, "column 3 (Size)"},
		{"empty size", `"b","k","","","e",""`, "column 3 (Size)"},
		{"bad time", `"b","k","1","yesterday","e",""`, "column 4 (LastModifiedDate)"},
		{"empty etag", `"b","k","1","","",""`, "column 5 (ETag)"},
		{"bad bool", `"b","k","1","","e","yes"`, "column 6 (IsLatest)"},
		{"columns", `"b","k","1"`, "wrong number of fields"},
		{"quote", `"b","k"x,"1","","e",""`, "extraneous or missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := gz(t, good+tt.row+"\n")
			f := fileOf("data/f.csv.gz", data)
			r := &Reader{Fetcher: memFetcher{"b/data/f.csv.gz": data}, Bucket: "b"}
			var got []record.Object
			err := r.ReadFile(context.Background(), sc, f, collect(&got))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "s3://b/data/f.csv.gz") {
				t.Fatalf("err = %v, want it to name the file and contain %q", err, tt.want)
			}
		})
	}
}

func TestNotGzip(t *testing.T) {
	sc, _ := ParseSchema("Bucket, Key, Size, ETag")
	data := []byte("\"b\",\"k\",\"1\",\"e\"\n")
	r := &Reader{Fetcher: memFetcher{"b/k.csv": data}, Bucket: "b"}
	err := r.ReadFile(context.Background(), sc, fileOf("k.csv", data), func(*record.Object) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "not gzip") {
		t.Fatalf("err = %v", err)
	}
}

func TestEmitErrorStops(t *testing.T) {
	m, fe := loadManifest(t, "good")
	r := &Reader{Fetcher: fe, Bucket: "inv-bucket"}
	stop := errors.New("stop")
	n := 0
	err := r.ReadAll(context.Background(), m, func(*record.Object) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err = %v after %d rows", err, n)
	}
}

func TestUnits(t *testing.T) {
	m, fe := loadManifest(t, "good")
	var buf bytes.Buffer
	w := tsv.NewWriter(&buf)
	for _, u := range Units(m, "inv-bucket") {
		if err := u.Write(w); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Fatalf("%d unit lines, want 2:\n%s", n, buf.String())
	}
	// Read each unit as a separate worker would and check the union.
	tr := tsv.NewReader(&buf)
	var got []record.Object
	var stats Stats
	for {
		f, err := tr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		u, err := ParseUnit(f)
		if err != nil {
			t.Fatal(record.AtLine(tr, err))
		}
		r := &Reader{Fetcher: fe}
		if err := r.ReadUnit(context.Background(), u, collect(&got)); err != nil {
			t.Fatal(err)
		}
		stats.Rows += r.Stats.Rows
	}
	if len(got) != len(fixtureObjects) || stats.Rows != 9 {
		t.Fatalf("units gave %d objects from %d rows", len(got), stats.Rows)
	}
	for i := range got {
		if got[i] != fixtureObjects[i] {
			t.Errorf("row %d: got %+v", i, got[i])
		}
	}
}

func TestParseUnitErrors(t *testing.T) {
	md := "0123456789abcdef0123456789abcdef"
	sc := "Bucket, Key, Size, ETag"
	tests := []struct {
		name   string
		fields []string
		col    int
	}{
		{"count", []string{"inventory", "b"}, 0},
		{"tag", []string{"inv", "b", "k", "1", md, sc}, 1},
		{"bucket", []string{"inventory", "", "k", "1", md, sc}, 2},
		{"size", []string{"inventory", "b", "k", "x", md, sc}, 4},
		{"md5", []string{"inventory", "b", "k", "1", "abc", sc}, 5},
		{"schema", []string{"inventory", "b", "k", "1", md, "Bucket, Key"}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f [][]byte
			for _, s := range tt.fields {
				f = append(f, []byte(s))
			}
			_, err := ParseUnit(f)
			var ce *record.ColumnError
			if !errors.As(err, &ce) || ce.Column != tt.col {
				t.Fatalf("err = %v, want a ColumnError at column %d", err, tt.col)
			}
		})
	}
}

func TestDirFetcher(t *testing.T) {
	_, fe := loadManifest(t, "good")
	rc, err := fe.Open(context.Background(), "any", "inv/src-bucket/cfg/data/part-0.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if _, err := fe.Open(context.Background(), "any", "inv/src-bucket/cfg/data/missing.csv.gz"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v", err)
	}
	if _, err := fe.Open(context.Background(), "any", "../../etc/passwd"); err == nil {
		t.Fatal("a key with .. segments must be refused")
	}
}

func TestParseVerify(t *testing.T) {
	for in, want := range map[string]Verify{"": VerifyFirst, "first": VerifyFirst, "stream": VerifyStream, "none": VerifyNone} {
		if v, err := ParseVerify(in); err != nil || v != want {
			t.Errorf("ParseVerify(%q) = %v, %v", in, v, err)
		}
	}
	if _, err := ParseVerify("md5"); err == nil {
		t.Error("ParseVerify(md5) must fail")
	}
}

// TestS3Fetcher reads the good report from a real (MinIO) bucket through
// GetObject, the way the CLI reads an s3:// manifest.
func TestS3Fetcher(t *testing.T) {
	srv := s3test.A(t)
	c := srv.Client(t)
	bucket := srv.Bucket(t, false)
	root := "testdata/good"
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		s3test.Put(t, c, bucket, "inv/"+filepath.ToSlash(rel), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fe := S3Fetcher{Client: c}
	ctx := context.Background()
	body, err := fe.Open(ctx, bucket, "inv/"+manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(body)
	body.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := &Reader{Fetcher: fe, Bucket: bucket}
	var got []record.Object
	if err := r.ReadAll(ctx, m, collect(&got)); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(fixtureObjects) || got[2] != fixtureObjects[2] {
		t.Fatalf("read %d objects from S3: %q", len(got), keysOf(got))
	}
	if _, err := fe.Open(ctx, bucket, "inv/missing"); err == nil || !strings.Contains(err.Error(), "get s3://"+bucket+"/inv/missing") {
		t.Fatalf("missing object: %v", err)
	}
}

func TestMain(m *testing.M) { s3test.Main(m) }
