package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
	"golang.org/x/sync/errgroup"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestMain(m *testing.M) { s3test.Main(m) }

type result struct {
	stdout, stderr string
	code           int
}

// s3list runs the tool in-process as main would: parse, run, map the error
// to an exit code and print its message.
func s3list(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	var c CLI
	var stdout, stderr bytes.Buffer
	parser, err := kong.New(&c, kong.Name("s3list"), kong.Exit(func(int) {}), kong.Writers(&stderr, &stderr))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse(args); err != nil {
		return result{stderr: "s3list: " + err.Error() + "\n", code: stream.ExitUsage}
	}
	sio := &stream.IO{Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] }}
	err = run(context.Background(), &c, sio)
	code, msg := stream.ExitCode(err)
	if msg != "" {
		fmt.Fprintf(&stderr, "s3list: %s\n", msg)
	}
	return result{stdout.String(), stderr.String(), code}
}

func srcArgs(srv *s3test.Server, bucket string) []string {
	return []string{"--bucket", bucket, "--src-profile", srv.Profile, "--src-endpoint-url", srv.Endpoint,
		"--src-region", "us-east-1", "--max-attempts", "2"}
}

func records(t *testing.T, out string) []record.Object {
	t.Helper()
	r := tsv.NewReader(strings.NewReader(out))
	var recs []record.Object
	for {
		f, err := r.Read()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		var o record.Object
		if err := record.ParseObject(f, &o); err != nil {
			t.Fatal(record.AtLine(r, err))
		}
		recs = append(recs, o)
	}
}

func keysOf(t *testing.T, out string) []string {
	t.Helper()
	var keys []string
	for _, o := range records(t, out) {
		keys = append(keys, o.Key)
	}
	return keys
}

// seed puts 0-byte objects concurrently.
func seed(t *testing.T, c *s3.Client, bucket string, keys []string) {
	t.Helper()
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(64)
	for _, k := range keys {
		g.Go(func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader(""), ContentLength: aws.Int64(0)})
			if err != nil {
				return fmt.Errorf("put %q: %w", k, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

func hexKeys(from, to int) []string {
	var keys []string
	for i := from; i <= to; i++ {
		keys = append(keys, fmt.Sprintf("%02x", i))
	}
	return keys
}

func TestCampanileMinIO(t *testing.T) {
	srv := s3test.A(t)
	bucket := srv.Bucket(t, false)
	seed(t, srv.Client(t), bucket, append(hexKeys(0, 255), "000/00"))
	var full strings.Builder
	full.WriteString("# every key exactly once: objects directly under each first digit and then 000/\n")
	for _, c := range "0123456789abcdef" {
		fmt.Fprintf(&full, "/,%c\n", c)
	}
	full.WriteString(",000/\n")
	tests := []struct {
		name, parts string
		want        []string
	}{
		{"slash 0", "/,0\n", hexKeys(0, 15)},
		{"no delimiter 000/", ",000/\n", []string{"000/00"}},
		{"full", full.String(), append(hexKeys(0, 255), "000/00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s3list(t, tt.parts, nil, append(srcArgs(srv, bucket), "--units", "-", "--page-size", "7")...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if got := keysOf(t, r.stdout); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q\nwant %q", got, tt.want)
			}
			c := counters.ParseReporterLines(r.stderr)
			if c["s3list,objects"] != int64(len(tt.want)) || c["s3list,units"] != int64(strings.Count(tt.parts, ",")) {
				t.Fatalf("counters %v", c)
			}
		})
	}
}

// oddKeys are keys MinIO can host; `//` and a leading `/` are tested with
// the fake bucket in lib/lister (MinIO rejects `//` and strips a leading /).
var oddKeys = []string{"tab\there", "new\nline", "cr\rhere", `back\slash`, "com,ma", `\N`, "sp ace", " lead space",
	"plus+sign", "pct%2Bd", "é", "日本/語", "emoji😀", "ctl\x01\x1f", "dir/", key1024}

// key1024 is a 1024-byte key in segments of at most 255 bytes (MinIO's limit).
var key1024 = strings.Repeat(strings.Repeat("k", 254)+"/", 4) + "kkkk"

func TestOddKeysMinIO(t *testing.T) {
	srv := s3test.A(t)
	bucket := srv.Bucket(t, false)
	seed(t, srv.Client(t), bucket, oddKeys)
	want := slices.Clone(oddKeys)
	slices.Sort(want)
	for _, page := range []string{"0", "2"} {
		r := s3list(t, "", nil, append(srcArgs(srv, bucket), "--page-size", page, "-q")...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		recs := records(t, r.stdout)
		var got []string
		for _, o := range recs {
			got = append(got, o.Key)
			if o.Bucket != bucket || o.VersionID != "" || o.IsLatest != record.BoolNull || o.DeleteMarker || o.Size != 0 || o.ETag == "" {
				t.Errorf("record %+v", o)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("page size %s: got %q\nwant %q", page, got, want)
		}
	}
}

func TestVersionsMinIO(t *testing.T) {
	srv := s3test.A(t)
	bucket := srv.Bucket(t, true)
	c := srv.Client(t)
	v1 := s3test.Put(t, c, bucket, "k y", []byte("one"))
	time.Sleep(10 * time.Millisecond)
	v2 := s3test.Put(t, c, bucket, "k y", []byte("two!"))
	del, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("k y")})
	if err != nil {
		t.Fatal(err)
	}
	j := s3test.Put(t, c, bucket, "j", []byte("j"))
	r := s3list(t, "", nil, append(srcArgs(srv, bucket), "--versions", "--page-size", "1")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	type row struct {
		key, id      string
		size         int64
		latest       record.Bool
		deleteMarker bool
	}
	var got []row
	for _, o := range records(t, r.stdout) {
		got = append(got, row{o.Key, o.VersionID, o.Size, o.IsLatest, o.DeleteMarker})
	}
	want := []row{
		{"j", *j.VersionId, 1, record.BoolTrue, false},
		{"k y", *del.VersionId, 0, record.BoolTrue, true},
		{"k y", *v2.VersionId, 4, record.BoolFalse, false},
		{"k y", *v1.VersionId, 3, record.BoolFalse, false},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	cs := counters.ParseReporterLines(r.stderr)
	if cs["s3list,versions"] != 3 || cs["s3list,delete_markers"] != 1 || cs["s3list,objects"] != 4 {
		t.Fatalf("counters %v", cs)
	}
}

// TestPlanMinIO plans ranges over keys in MinIO (5,000: the 100,000-key
// case runs against the in-memory fake in lib/partplan), checks them, lists
// them and compares with a one-unit listing, byte for byte.
func TestPlanMinIO(t *testing.T) {
	srv := s3test.A(t)
	bucket := srv.Bucket(t, false)
	var keys []string
	for i := range 5000 {
		keys = append(keys, fmt.Sprintf("p/%04x/%d", (i*7919)%65536, i))
	}
	keys = append(keys, "other", "p/", "p/ space+plus")
	start := time.Now()
	seed(t, srv.Client(t), bucket, keys)
	t.Logf("seeded %d objects in %v", len(keys), time.Since(start))

	one := s3list(t, "", nil, append(srcArgs(srv, bucket), "--prefix", "p/", "-q")...)
	if one.code != 0 {
		t.Fatalf("exit %d: %s", one.code, one.stderr)
	}
	plan := s3list(t, "", nil, append(srcArgs(srv, bucket), "--prefix", "p/", "--plan-parts", "8", "--probe-keys", "50")...)
	if plan.code != 0 {
		t.Fatalf("plan: exit %d: %s", plan.code, plan.stderr)
	}
	t.Logf("plan: %s", plan.stderr)
	parts := filepath.Join(t.TempDir(), "parts.tsv")
	if err := os.WriteFile(parts, []byte(plan.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(plan.stdout, "\n"); n < 4 || n > 8 {
		t.Fatalf("%d ranges, want about 8:\n%s", n, plan.stdout)
	}
	check := s3list(t, "", nil, "--check-parts", parts)
	if check.code != 0 || !strings.Contains(check.stdout, "tile prefix \"p/\" exactly once") {
		t.Fatalf("check: exit %d: %s%s", check.code, check.stdout, check.stderr)
	}
	many := s3list(t, "", nil, append(srcArgs(srv, bucket), "--units", parts, "-c", "4", "-q")...)
	if many.code != 0 {
		t.Fatalf("exit %d: %s", many.code, many.stderr)
	}
	if many.stdout != one.stdout {
		t.Fatalf("planned ranges listed %d keys, one unit %d: outputs differ", len(keysOf(t, many.stdout)), len(keysOf(t, one.stdout)))
	}
	if n := len(keysOf(t, many.stdout)); n != len(keys)-1 {
		t.Fatalf("listed %d keys, want %d", n, len(keys)-1)
	}
	// Dropping a middle range must be caught.
	lines := strings.SplitAfter(plan.stdout, "\n")
	broken := strings.Join(append(slices.Clone(lines[:2]), lines[3:]...), "")
	bad := s3list(t, broken, nil, "--check-parts", "-")
	if bad.code != stream.ExitUsage || !strings.Contains(bad.stderr, "line 3: gap") {
		t.Fatalf("check of a part file missing line 3: exit %d: %s", bad.code, bad.stderr)
	}
}

// Under Hadoop NLineInputFormat each line arrives as "<offset>\t<line>";
// the output must equal plain mode's.
func TestMapperModeMinIO(t *testing.T) {
	srv := s3test.A(t)
	bucket := srv.Bucket(t, false)
	seed(t, srv.Client(t), bucket, append(hexKeys(0, 255), "000/00", "x\ty"))
	parts := "/,0\n,000/\n# comment\n\nrange\t\t0f\t2a\nrange\t\tf0\t\\N\n"
	plain := s3list(t, parts, nil, append(srcArgs(srv, bucket), "--units", "-", "-q")...)
	if plain.code != 0 {
		t.Fatalf("exit %d: %s", plain.code, plain.stderr)
	}
	var mapped strings.Builder
	off := 0
	for _, line := range strings.SplitAfter(parts, "\n") {
		if line != "" {
			fmt.Fprintf(&mapped, "%d\t%s", off, line)
			off += len(line)
		}
	}
	env := map[string]string{"mapreduce_task_ismap": "true", "mapred_input_format_class": "org.apache.hadoop.mapred.lib.NLineInputFormat"}
	got := s3list(t, mapped.String(), env, append(srcArgs(srv, bucket), "--units", "-", "-q")...)
	if got.code != 0 {
		t.Fatalf("mapper: exit %d: %s", got.code, got.stderr)
	}
	if got.stdout != plain.stdout || len(keysOf(t, plain.stdout)) != 16+1+(0x2a-0x0f)+15+1 {
		t.Fatalf("mapper output differs or has a wrong count:\n%s\nplain:\n%s", got.stdout, plain.stdout)
	}
}

// A unit that fails after retries (here: a bucket that does not exist) exits
// 3 and names the unit's line.
func TestUnitFailureMinIO(t *testing.T) {
	srv := s3test.A(t)
	r := s3list(t, "# c\n/,0\n", nil, append(srcArgs(srv, "no-such-bucket-s3list"), "--units", "-", "-q")...)
	if r.code != stream.ExitFatal || !strings.Contains(r.stderr, "unit line 2:") || !strings.Contains(r.stderr, "NoSuchBucket") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

// TestGolden runs bad inputs and usage errors (no S3 needed: part files are
// read before any request) and compares stderr and the exit code with
// testdata/<name>.golden. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	const partsA = "range\tp/\t\tp/c\nrange\tp/\tp/c\tp/k\nrange\tp/\tp/k\t\\N\n"
	runGolden(t, []goldenCase{
		{"no-comma", "/,0\n# ok\nnocomma\n", nil, []string{"--bucket", "b", "--units", "-"}},
		{"range-fields", "/,0\nrange\tp/\t\n", nil, []string{"--bucket", "b", "--units", "-"}},
		{"range-bad-escape", "range\tp/\t\\q\t\\N\n", nil, []string{"--bucket", "b", "--units", "-"}},
		{"range-empty", "range\tp/\tp/z\tp/a\n", nil, []string{"--bucket", "b", "--units", "-"}},
		{"crlf", "/,0\r\n", nil, []string{"--bucket", "b", "--units", "-"}},
		{"mapper-no-offset", "/,0\n", map[string]string{"mapreduce_task_ismap": "true",
			"mapred_input_format_class": "org.apache.hadoop.mapred.lib.NLineInputFormat"}, []string{"--bucket", "b", "--units", "-"}},
		{"missing-file", "", nil, []string{"--bucket", "b", "--units", "testdata/no-such-file"}},
		{"no-bucket", "", nil, []string{"--prefix", "x"}},
		{"two-modes", "", nil, []string{"--bucket", "b", "--units", "-", "--plan-parts", "4"}},
		{"prefix-with-units", "", nil, []string{"--bucket", "b", "--units", "-", "--prefix", "x"}},
		{"check-ok", partsA, nil, []string{"--check-parts", "-"}},
		{"check-gap-overlap", "range\tp/\ta\tp/c\nrange\tp/\tp/b\tp/k\nrange\tp/\tp/m\tp/x\n", nil, []string{"--check-parts", "-"}},
		{"check-campanile", "/,0\n" + partsA, nil, []string{"--check-parts", "-"}},
	})
}
