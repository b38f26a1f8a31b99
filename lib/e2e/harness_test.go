package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

var (
	binDir   string // the five binaries
	buildErr error
	repoRoot string
)

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	binDir = os.Getenv("S3PIPE_BIN")
	var tmp string
	if binDir == "" && os.Getenv("S3PIPE_TEST_ENDPOINT") != "" {
		// Only worth building when there is a server to run against.
		var err error
		if tmp, err = os.MkdirTemp("", "s3pipe-e2e-bin-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		binDir = tmp
		cmd := exec.Command("go", "build", "-o", binDir+"/", "./cmd/...")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/...: %v\n%s", err, out)
		}
	}
	code := s3test.Run(m)
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

// tools the chain needs; a test fails naming any that is missing.
var tools = []string{"s3list", "s3diff", "s3mpplan", "s3copy", "s3mpdone"}

func needTools(t *testing.T) {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	var missing []string
	for _, n := range tools {
		if _, err := os.Stat(filepath.Join(binDir, n)); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("binaries missing from %s: %s", binDir, strings.Join(missing, ", "))
	}
}

// sideEnv is the S3PIPE_<SIDE>_* variables every tool reads for a server.
func sideEnv(side string, s *s3test.Server) []string {
	v := s.Side()
	return []string{"S3PIPE_" + side + "_PROFILE=" + v.Profile, "S3PIPE_" + side + "_ENDPOINT_URL=" + v.EndpointURL,
		"S3PIPE_" + side + "_REGION=" + v.Region, "S3PIPE_" + side + "_PATH_STYLE=" + v.PathStyle}
}

// env runs the binaries for one source and destination.
type env struct {
	t        *testing.T
	dir      string
	src, dst *s3test.Server
	srcB     string
	dstB     string
}

func newEnv(t *testing.T, src, dst *s3test.Server) *env {
	needTools(t)
	return &env{t: t, dir: t.TempDir(), src: src, dst: dst, srcB: src.Bucket(t, false), dstB: dst.Bucket(t, false)}
}

func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

// cmd builds a command for tool with both sides' variables set. listDst
// points s3list's source side at the destination server.
func (e *env) cmd(tool string, args ...string) *exec.Cmd {
	c := exec.Command(filepath.Join(binDir, tool), args...)
	c.Env = append(os.Environ(), "S3PIPE_CONCURRENCY=8")
	c.Env = append(c.Env, sideEnv("SRC", e.src)...)
	c.Env = append(c.Env, sideEnv("DST", e.dst)...)
	return c
}

func (e *env) listDstCmd(args ...string) *exec.Cmd {
	c := e.cmd("s3list", args...)
	c.Env = append(c.Env, sideEnv("SRC", e.dst)...) // later entries win
	return c
}

// stage is one process of a pipeline and what it left behind.
type stage struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	err    error
}

func (s *stage) name() string { return filepath.Base(s.cmd.Path) }

// counters sums the stage's reporter:counter lines by name (group dropped).
func (s *stage) counters() map[string]int64 {
	m := map[string]int64{}
	for k, v := range counters.ParseReporterLines(s.stderr.String()) {
		m[k[strings.IndexByte(k, ',')+1:]] += v
	}
	return m
}

func (s *stage) exitCode() int {
	if s.err == nil {
		return 0
	}
	if ee, ok := s.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// pipeline runs cmds connected stdout to stdin, the first reading stdin
// (a file path or "" for none), the last writing to out.
func (e *env) pipeline(stdin, out string, cmds ...*exec.Cmd) []*stage {
	e.t.Helper()
	stages := make([]*stage, len(cmds))
	var prev io.Reader
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			e.t.Fatal(err)
		}
		defer f.Close()
		prev = f
	}
	of, err := os.Create(out)
	if err != nil {
		e.t.Fatal(err)
	}
	defer of.Close()
	for i, c := range cmds {
		s := &stage{cmd: c}
		stages[i] = s
		c.Stdin = prev
		c.Stderr = &s.stderr
		if i == len(cmds)-1 {
			c.Stdout = of
		} else {
			p, err := c.StdoutPipe()
			if err != nil {
				e.t.Fatal(err)
			}
			prev = p
		}
	}
	for _, s := range stages {
		if err := s.cmd.Start(); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, s := range stages {
		s.err = s.cmd.Wait()
	}
	return stages
}

// mustOK fails the test unless every stage exited 0 (or 1 where allowed).
func (e *env) mustOK(stages []*stage, allowFailed ...string) {
	e.t.Helper()
	for _, s := range stages {
		code := s.exitCode()
		if code == 0 || code == 1 && contains(allowFailed, s.name()) {
			continue
		}
		e.t.Fatalf("%s exited %d: %v\nstderr:\n%s", s.name(), code, s.err, lastLines(s.stderr.String(), 30))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// chain is one run of the whole pipeline.
type chain struct {
	list, plan []*stage // plan is the 3-stage pipeline s3list | s3diff | s3mpplan
	copyDone   []*stage // s3copy | s3mpdone
	report     map[string][]record.Report
}

func (c *chain) copy() *stage { return c.copyDone[0] }
func (c *chain) done() *stage { return c.copyDone[1] }

// runChain lists the destination, then runs
// s3list | s3diff | s3mpplan > plan and s3copy < plan | s3mpdone > report.
func (e *env) runChain(tag string, copyArgs ...string) *chain {
	e.t.Helper()
	c := &chain{}
	dstList := e.path(tag + ".dst.tsv")
	c.list = e.pipeline("", dstList, e.listDstCmd("--bucket", e.dstB))
	e.mustOK(c.list)
	plan := e.path(tag + ".plan.tsv")
	c.plan = e.pipeline("", plan,
		e.cmd("s3list", "--bucket", e.srcB),
		e.cmd("s3diff", "--dst", dstList),
		e.cmd("s3mpplan", "--dst-bucket", e.dstB))
	e.mustOK(c.plan)
	report := e.path(tag + ".report.tsv")
	c.copyDone = e.pipeline(plan, report, e.cmd("s3copy", copyArgs...), e.cmd("s3mpdone"))
	c.report = readReport(e.t, report)
	return c
}

func readReport(t *testing.T, path string) map[string][]record.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][]record.Report{}
	in := tsv.NewReader(f)
	for {
		fields, err := in.Read()
		if err == io.EOF {
			return m
		}
		if err != nil {
			t.Fatalf("report %s: %v", path, err)
		}
		var r record.Report
		if err := record.ParseReport(fields, &r); err != nil {
			t.Fatalf("report %s: %v", path, record.AtLine(in, err))
		}
		m[r.Key] = append(m[r.Key], r)
	}
}

// checkOneRowEach fails unless the report has exactly one row for each
// key in want and no other rows, each with the wanted status.
func checkOneRowEach(t *testing.T, report map[string][]record.Report, want map[string]string) {
	t.Helper()
	bad := 0
	for k, rows := range report {
		if len(rows) != 1 {
			t.Errorf("key %q: %d report rows, want 1", k, len(rows))
			bad++
		}
		if _, ok := want[k]; !ok {
			t.Errorf("key %q: unexpected report row %+v", k, rows[0])
			bad++
		}
	}
	for k, st := range want {
		rows := report[k]
		if len(rows) == 0 {
			t.Errorf("key %q: no report row", k)
			bad++
		} else if rows[0].Status != st {
			t.Errorf("key %q: status %s (%s %s), want %s", k, rows[0].Status, rows[0].ErrorCode, rows[0].Message, st)
			bad++
		}
		if bad > 10 {
			t.Fatal("too many report errors")
		}
	}
}

// listing lists a bucket with EncodingType=url: key -> ETag (unquoted).
func listing(t *testing.T, c *s3.Client, bucket string) map[string]string {
	t.Helper()
	m := map[string]string{}
	in := &s3.ListObjectsV2Input{Bucket: &bucket, EncodingType: types.EncodingTypeUrl}
	p := s3.NewListObjectsV2Paginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			k, err := url.QueryUnescape(aws.ToString(o.Key))
			if err != nil {
				t.Fatal(err)
			}
			m[k] = strings.Trim(aws.ToString(o.ETag), `"`)
		}
	}
	return m
}

// sameContents fails unless the destination holds exactly the source's
// keys with the same ETags.
func (e *env) sameContents() {
	e.t.Helper()
	src := listing(e.t, e.src.Client(e.t), e.srcB)
	dst := listing(e.t, e.dst.Client(e.t), e.dstB)
	for k, et := range src {
		if dst[k] != et {
			e.t.Errorf("key %q: destination ETag %q, source %q", k, dst[k], et)
		}
	}
	if len(dst) != len(src) {
		e.t.Errorf("destination has %d objects, source %d", len(dst), len(src))
	}
}

func uploadsLeft(t *testing.T, c *s3.Client, bucket string) int {
	t.Helper()
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte{'\n'})
}

// putParts uploads a multipart object of pseudo-random bytes.
func putParts(t *testing.T, c *s3.Client, bucket, key string, seed uint64, sizes ...int64) string {
	t.Helper()
	var total int64
	for _, n := range sizes {
		total += n
	}
	body := s3test.RandomBytes(total, seed)
	out := s3test.PutMultipartBody(t, c, bucket, key, body, sizes)
	return strings.Trim(aws.ToString(out.ETag), `"`)
}

// readRows reads an escaped TSV file with n columns.
func readRows(t *testing.T, path string, n int) [][][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := tsv.NewReader(f)
	var rows [][][]byte
	for {
		fields, err := in.ReadN(n)
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		row := make([][]byte, len(fields))
		for i, f := range fields {
			if f != nil {
				row[i] = append([]byte{}, f...)
			}
		}
		rows = append(rows, row)
	}
}
