package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Bad input (issue 7): every tool, fed malformed lines, stops with exit 2
// and an error naming the line (and column), never panics, and leaves on
// stdout only complete records of its output type for input lines before
// the bad one. Keys are bytes: a non-UTF-8 key is accepted. Fatal
// configuration (wrong secret, missing bucket) stops a tool with exit 3;
// one object's AccessDenied fails that object only.

// toolResult is one finished tool process.
type toolResult struct {
	code           int
	stdout, stderr []byte
}

// runTool runs tool with stdin and extra environment entries (later ones
// win over e.cmd's).
func (e *env) runTool(stdin []byte, extraEnv []string, tool string, args ...string) toolResult {
	e.t.Helper()
	c := e.cmd(tool, args...)
	c.Env = append(c.Env, extraEnv...)
	c.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	r := toolResult{stdout: out.Bytes(), stderr: errb.Bytes()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("%s: %v", tool, err)
	}
	return r
}

// Output record types, by tool.
var outType = map[string]string{"s3list": "object", "s3diff": "object", "s3mpplan": "plan", "s3copy": "result", "s3mpdone": "report"}

// parseRecord parses one line's fields as kind and returns its key and,
// for results and reports, its status.
func parseRecord(kind string, f [][]byte) (key, status string, err error) {
	switch kind {
	case "object":
		var o record.Object
		err = record.ParseObject(f, &o)
		key = o.Key
	case "plan":
		var p record.Plan
		err = record.ParsePlan(f, &p)
		key, status = p.Key, p.Action
	case "result":
		var r record.Result
		err = record.ParseResult(f, &r)
		key, status = r.Key, r.Status
	case "report":
		var r record.Report
		err = record.ParseReport(f, &r)
		key, status = r.Key, r.Status
	default:
		panic("unknown record type " + kind)
	}
	return key, status, err
}

// outRecord is one parsed stdout record.
type outRecord struct{ key, status string }

// checkStdout fails unless stdout is complete valid records of kind (every
// line ends with its newline) whose keys are in allowed (nil = any key).
func checkStdout(t *testing.T, kind string, stdout []byte, allowed []string) []outRecord {
	t.Helper()
	if len(stdout) > 0 && stdout[len(stdout)-1] != '\n' {
		t.Errorf("stdout ends in a partial line: %q", lastLines(string(stdout), 1))
	}
	in := tsv.NewReader(bytes.NewReader(stdout))
	var recs []outRecord
	for {
		f, err := in.Read()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Errorf("stdout is not %s records: %v", kind, err)
			return recs
		}
		key, status, err := parseRecord(kind, f)
		if err != nil {
			t.Errorf("stdout is not %s records: %v", kind, record.AtLine(in, err))
			return recs
		}
		if allowed != nil && !slices.Contains(allowed, key) {
			t.Errorf("stdout has a %s record for %q, which no input line before the bad one holds", kind, key)
		}
		recs = append(recs, outRecord{key, status})
	}
}

// badFixture is the bucket pair and one valid line of every record type
// for the keys a, b and c, made by the tools themselves.
type badFixture struct {
	e                               *env
	objects, plans, results, report map[string]string // key -> line without newline
	lines                           map[string]map[string]string
}

func newBadFixture(t *testing.T) *badFixture {
	src, dst := s3test.A(t), s3test.B(t)
	e := newEnv(t, src, dst)
	sc := src.Client(t)
	for _, k := range []string{"a", "b", "c", "deny/x"} {
		s3test.Put(t, sc, e.srcB, k, []byte("bad input fixture "+k))
	}
	putParts(t, sc, e.srcB, "deny/m", 1, 5*mib, 1*mib)
	putParts(t, sc, e.srcB, "m", 2, 5*mib, 1*mib)
	fx := &badFixture{e: e, lines: map[string]map[string]string{}}
	byKey := func(kind string, out []byte) map[string]string {
		m := map[string]string{}
		for _, l := range strings.SplitAfter(string(out), "\n") {
			if l == "" {
				continue
			}
			f, err := tsv.NewReader(strings.NewReader(l)).Read()
			if err != nil {
				t.Fatal(err)
			}
			key, _, err := parseRecord(kind, f)
			if err != nil {
				t.Fatalf("fixture %s line %q: %v", kind, l, err)
			}
			m[key] = strings.TrimSuffix(l, "\n")
		}
		return m
	}
	must := func(r toolResult, what string) []byte {
		if r.code != 0 {
			t.Fatalf("fixture %s: exit %d\n%s", what, r.code, r.stderr)
		}
		return r.stdout
	}
	fx.objects = byKey("object", must(e.runTool(nil, nil, "s3list", "--bucket", e.srcB), "s3list"))
	abc := []byte(fx.objects["a"] + "\n" + fx.objects["b"] + "\n" + fx.objects["c"] + "\n")
	fx.plans = byKey("plan", must(e.runTool(abc, nil, "s3mpplan", "--dst-bucket", e.dstB), "s3mpplan"))
	planABC := []byte(fx.plans["a"] + "\n" + fx.plans["b"] + "\n" + fx.plans["c"] + "\n")
	resOut := must(e.runTool(planABC, nil, "s3copy"), "s3copy")
	fx.results = byKey("result", resOut)
	fx.report = byKey("report", must(e.runTool(resOut, nil, "s3mpdone"), "s3mpdone"))
	fx.lines = map[string]map[string]string{"object": fx.objects, "plan": fx.plans, "result": fx.results, "report": fx.report}
	for kind, m := range fx.lines {
		for _, k := range []string{"a", "b", "c"} {
			if m[k] == "" {
				t.Fatalf("fixture: no %s line for %q", kind, k)
			}
		}
	}
	return fx
}

// Input record type and args of each tool reading records on stdin.
var recordTools = []struct {
	tool, in string
	args     func(e *env, emptyDst string) []string
}{
	{"s3diff", "object", func(e *env, d string) []string { return []string{"--dst", d} }},
	{"s3mpplan", "object", func(e *env, _ string) []string { return []string{"--dst-bucket", e.dstB} }},
	{"s3copy", "plan", func(*env, string) []string { return nil }},
	{"s3mpdone", "result", func(*env, string) []string { return nil }},
}

// A wrong record type for each tool: a row of the type the tool does not
// read (s3mpplan reads object and report rows).
var wrongType = map[string][]string{"s3diff": {"plan", "report"}, "s3mpplan": {"plan", "result"},
	"s3copy": {"object", "report", "result"}, "s3mpdone": {"object", "plan", "report"}}

type badCase struct {
	name    string
	in      string
	code    int      // 2 for bad input
	errRE   string   // stderr must match (bad input)
	allowed []string // keys stdout may hold; nil with code 0/1: any
	wantKey string   // accepted input: stdout must hold this key
}

var huge = strings.Repeat("a", tsv.DefaultMaxLine+1000)

// recordCases are the malformed variants of line 2 of a three-line input
// of kind, whose lines are l[a], l[b], l[c].
func recordCases(kind string, l map[string]string, fx *badFixture, tool string) []badCase {
	f := strings.Split(l["b"], "\t") // escapes never hold a raw TAB
	n := len(f)
	keyCol, sizeCol := 1, 3
	if kind == "report" {
		keyCol, sizeCol = 2, 10
	}
	with := func(col int, v string) string {
		g := slices.Clone(f)
		g[col-1] = v
		return strings.Join(g, "\t")
	}
	three := func(mid string) string { return l["a"] + "\n" + mid + "\n" + l["c"] + "\n" }
	first := []string{"a"}
	cols := func(col int) string { return fmt.Sprintf(`^(?s).*stdin: line 2, column %d: `, col) }
	const wrongCols = `^(?s).*stdin: line 2: wrong number of columns`
	// A line cut short inside column n/2+1 (before any escape in it).
	cut := strings.Join(f[:n/2], "\t") + "\t" + f[n/2][:len(f[n/2])/2]
	if i := strings.IndexByte(f[n/2], '\\'); i >= 0 {
		cut = strings.Join(f[:n/2], "\t") + "\t" + f[n/2][:i]
	}
	cases := []badCase{
		{name: "truncated line", in: three(cut), code: 2, errRE: wrongCols, allowed: first},
		{name: "truncated last line without newline", in: l["a"] + "\n" + cut, code: 2, errRE: wrongCols, allowed: first},
		{name: "extra column", in: three(l["b"] + "\tx"), code: 2, errRE: wrongCols, allowed: first},
		{name: "missing column", in: three(strings.Join(f[:n-1], "\t")), code: 2, errRE: wrongCols, allowed: first},
		{name: "empty line", in: three(""), code: 2, errRE: wrongCols, allowed: first},
		{name: "bad escape", in: three(with(keyCol, `b\q`)), code: 2, errRE: cols(keyCol) + `bad escape`, allowed: first},
		{name: "escape at end of line", in: three(with(n, `x\`)), code: 2, errRE: cols(n) + `line ends inside an escape`, allowed: first},
		{name: "NULL inside a field", in: three(with(keyCol, `b\Nx`)), code: 2, errRE: cols(keyCol) + `\\N \(NULL\) must be the whole field`, allowed: first},
		{name: "bad integer", in: three(with(sizeCol, "12x")), code: 2, errRE: cols(sizeCol) + `size`, allowed: first},
		{name: "CRLF line ending", in: three(with(n, "x\r")), code: 2, errRE: `^(?s).*stdin: line 2(, column \d+)?: raw carriage return`, allowed: first},
		{name: "huge line", in: three(huge), code: 2, errRE: `^(?s).*stdin: line 2: line too long`, allowed: first},
		{name: "non-UTF-8 key", in: three(with(keyCol, "b\xff\xfe")), wantKey: "b\xff\xfe"},
		{name: "empty input", in: ""},
	}
	for _, wk := range wrongType[tool] {
		cases = append(cases, badCase{name: "a " + wk + " row", in: three(fx.lines[wk]["b"]), code: 2, errRE: wrongCols, allowed: first})
	}
	return cases
}

// checkBad runs one case and checks exit code, message, stdout.
func checkBad(t *testing.T, e *env, tool string, c badCase, args []string) {
	t.Helper()
	r := e.runTool([]byte(c.in), nil, tool, args...)
	stderr := string(r.stderr)
	if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
		t.Fatalf("%s panicked:\n%s", tool, stderr)
	}
	recs := checkStdout(t, outType[tool], r.stdout, c.allowed)
	switch {
	case c.code == 2:
		if r.code != 2 {
			t.Errorf("exit %d, want 2\nstderr: %s", r.code, lastLines(stderr, 5))
		}
		if !regexp.MustCompile(c.errRE).MatchString(stderr) {
			t.Errorf("stderr does not match %q:\n%s", c.errRE, lastLines(stderr, 5))
		}
	case c.wantKey != "":
		// Accepted: the key's object may not exist (exit 1, a failed row),
		// but the line is not rejected as input. MinIO answers a request
		// for a non-UTF-8 key with SignatureDoesNotMatch (it re-encodes
		// the path as UTF-8 before checking the signature), which s3copy
		// rightly takes for bad credentials (exit 3, the key's failed row
		// written); AWS S3 cannot hold such keys at all.
		minio := tool == "s3copy" && r.code == 3 && strings.Contains(stderr, "SignatureDoesNotMatch")
		if r.code != 0 && r.code != 1 && !minio || strings.Contains(stderr, "bad input") {
			t.Errorf("exit %d, want 0 or 1 (accepted)\nstderr: %s", r.code, lastLines(stderr, 5))
		}
		if !slices.ContainsFunc(recs, func(o outRecord) bool { return o.key == c.wantKey }) {
			t.Errorf("no output record for key %q: %v", c.wantKey, recs)
		}
	default:
		if r.code != 0 || len(r.stdout) != 0 {
			t.Errorf("exit %d with %d bytes of output, want 0 and none\nstderr: %s", r.code, len(r.stdout), lastLines(stderr, 5))
		}
	}
}

func TestBadInputRecords(t *testing.T) {
	fx := newBadFixture(t)
	e := fx.e
	emptyDst := e.path("empty.tsv")
	if err := os.WriteFile(emptyDst, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range recordTools {
		cases := recordCases(tt.in, fx.lines[tt.in], fx, tt.tool)
		if tt.tool == "s3diff" {
			o := fx.objects
			// Listings must be sorted: a source out of order, and a
			// destination listing out of order, both at their line 2.
			badDst := e.path("unsorted-dst.tsv")
			if err := os.WriteFile(badDst, []byte(o["b"]+"\n"+o["a"]+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			cases = append(cases,
				badCase{name: "source out of order", in: o["b"] + "\n" + o["a"] + "\n" + o["c"] + "\n", code: 2,
					errRE: `stdin: line 2, column 1: source key "a" sorts before "b"`, allowed: []string{"b"}},
				badCase{name: "source key repeated", in: o["a"] + "\n" + o["a"] + "\n", code: 2,
					errRE: `stdin: line 2, column 1: `, allowed: []string{"a"}})
			t.Run("s3diff/destination out of order", func(t *testing.T) {
				c := badCase{in: o["a"] + "\n" + o["b"] + "\n" + o["c"] + "\n", code: 2,
					errRE: regexp.QuoteMeta(badDst) + `: line 2, column 1: destination key "a" sorts before "b"`, allowed: []string{"a", "b"}}
				checkBad(t, e, "s3diff", c, []string{"--dst", badDst})
			})
		}
		for _, c := range cases {
			t.Run(tt.tool+"/"+c.name, func(t *testing.T) { checkBad(t, e, tt.tool, c, tt.args(e, emptyDst)) })
		}
	}
}

// s3list reads part files (--units -): Campanile lines and range lines.
func TestBadInputPartFile(t *testing.T) {
	fx := newBadFixture(t)
	e := fx.e
	three := func(mid string) string { return "/,a\n" + mid + "\n/,c\n" }
	for _, c := range []badCase{
		{name: "unknown line", in: three("bogus"), code: 2, errRE: `stdin: line 2: `},
		{name: "unknown line with tabs", in: three("list\tb\tc"), code: 2, errRE: `stdin: line 2: `},
		{name: "range line with 2 fields", in: three("range\tb"), code: 2, errRE: `stdin: line 2: range line needs 4 tab-separated fields`},
		{name: "range line with 5 fields", in: three("range\tb\t\t\\N\tx"), code: 2, errRE: `stdin: line 2: range line needs 4 tab-separated fields`},
		{name: "bad escape", in: three("range\t\\q\t\t\\N"), code: 2, errRE: `stdin: line 2, column 2: bad escape`},
		{name: "CRLF line ending", in: three("/,b\r"), code: 2, errRE: `stdin: line 2: .*carriage return`},
		{name: "huge line", in: three(huge), code: 2, errRE: `stdin: line 2: line too long`},
		{name: "empty range", in: three("range\t\tb\tb"), code: 2, errRE: `stdin: line 2`},
		// Non-UTF-8 bytes are valid in keys: a range boundary after
		// "\xff" is accepted (and lists nothing here).
		{name: "non-UTF-8 boundary", in: "range\t\t\xff\t\\N\n"},
		{name: "empty input", in: ""},
	} {
		c.allowed = []string{} // s3list reads the whole part file before listing
		t.Run(c.name, func(t *testing.T) { checkBad(t, e, "s3list", c, []string{"--bucket", e.srcB, "--units", "-"}) })
	}
}

// credentialsWith writes a shared credentials file holding the test's
// profiles plus "bad-secret" (the source server's access key with a wrong
// secret) and "unknown-key".
func credentialsWith(t *testing.T, srv *s3test.Server) string {
	t.Helper()
	base, err := os.ReadFile(os.Getenv("AWS_SHARED_CREDENTIALS_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	p := t.TempDir() + "/credentials"
	extra := fmt.Sprintf("\n[bad-secret]\naws_access_key_id = %s\naws_secret_access_key = not-the-secret-1234\n\n"+
		"[unknown-key]\naws_access_key_id = NOSUCHKEY1234567\naws_secret_access_key = not-the-secret-1234\n", srv.AccessKey)
	if err := os.WriteFile(p, append(base, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Wrong credentials and missing buckets stop each tool that talks to S3
// with exit 3 and a message naming the S3 error, and no output row claims
// success.
func TestBadConfigFatal(t *testing.T) {
	fx := newBadFixture(t)
	e := fx.e
	creds := "AWS_SHARED_CREDENTIALS_FILE=" + credentialsWith(t, e.src)
	const missing = "s3pipe-no-such-bucket-e2e"
	o, p := fx.objects, fx.plans
	objAM := o["a"] + "\n" + o["m"] + "\n"
	plans := p["a"] + "\n" + p["b"] + "\n" + p["c"] + "\n"
	replace := func(s, old, new string) string { return strings.ReplaceAll(s, "\t"+old+"\t", "\t"+new+"\t") }
	// Part rows of m for s3mpdone: plan and copy them with good settings.
	mParts := e.runTool([]byte(o["m"]+"\n"), nil, "s3mpplan", "--dst-bucket", e.dstB)
	mResults := e.runTool(mParts.stdout, nil, "s3copy")
	if mParts.code != 0 || mResults.code != 0 {
		t.Fatalf("fixture for m: s3mpplan %d, s3copy %d\n%s%s", mParts.code, mResults.code, mParts.stderr, mResults.stderr)
	}
	badCreds := `SignatureDoesNotMatch|InvalidAccessKeyId`
	for _, c := range []struct {
		name, tool string
		args       []string
		env        []string
		in         string
		errRE      string
		deny       []string // keys that must have no output row
	}{
		{"s3list/bad secret", "s3list", []string{"--bucket", e.srcB}, []string{"S3PIPE_SRC_PROFILE=bad-secret"}, "", badCreds, nil},
		{"s3list/unknown key", "s3list", []string{"--bucket", e.srcB}, []string{"S3PIPE_SRC_PROFILE=unknown-key"}, "", badCreds, nil},
		{"s3list/missing bucket", "s3list", []string{"--bucket", missing}, nil, "", "NoSuchBucket", nil},
		{"s3mpplan/bad source secret", "s3mpplan", []string{"--dst-bucket", e.dstB}, []string{"S3PIPE_SRC_PROFILE=bad-secret"}, objAM, badCreds, []string{"m"}},
		{"s3mpplan/bad destination secret", "s3mpplan", []string{"--dst-bucket", e.dstB}, []string{"S3PIPE_DST_PROFILE=unknown-key"}, objAM, badCreds, []string{"m"}},
		{"s3mpplan/missing destination bucket", "s3mpplan", []string{"--dst-bucket", missing}, nil, objAM, "NoSuchBucket", []string{"m"}},
		// The bucket is the object row's last column.
		{"s3mpplan/missing source bucket", "s3mpplan", []string{"--dst-bucket", e.dstB}, nil,
			o["a"] + "\n" + strings.TrimSuffix(o["m"], e.srcB) + missing + "\n", "NoSuchBucket", []string{"m"}},
		{"s3copy/bad source secret", "s3copy", nil, []string{"S3PIPE_SRC_PROFILE=bad-secret"}, plans, badCreds, nil},
		{"s3copy/bad destination secret", "s3copy", nil, []string{"S3PIPE_DST_PROFILE=unknown-key"}, plans, badCreds, nil},
		{"s3copy/missing destination bucket", "s3copy", nil, nil, replace(plans, e.dstB, missing), "NoSuchBucket", nil},
		{"s3copy/missing source bucket", "s3copy", nil, nil, replace(plans, e.srcB, missing), "NoSuchBucket", nil},
		// Same server, server-side copies: the source is HEADed first,
		// and a HEAD's 404 carries no error code.
		{"s3copy/missing source bucket server-side", "s3copy", []string{"--mode", "server"}, sideEnv("DST", e.src),
			replace(replace(plans, e.srcB, missing), e.dstB, e.srcB), "NoSuchBucket", nil},
		{"s3mpdone/unknown key", "s3mpdone", nil, []string{"S3PIPE_DST_PROFILE=unknown-key"}, string(mResults.stdout), badCreds, []string{"m"}},
		{"s3mpdone/missing bucket", "s3mpdone", nil, nil, replace(string(mResults.stdout), e.dstB, missing), "NoSuchBucket", []string{"m"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.runTool([]byte(c.in), append([]string{creds}, c.env...), c.tool, c.args...)
			stderr := string(r.stderr)
			if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
				t.Fatalf("%s panicked:\n%s", c.tool, stderr)
			}
			if r.code != 3 {
				t.Errorf("exit %d, want 3\nstderr: %s", r.code, lastLines(stderr, 5))
			}
			if !regexp.MustCompile(c.errRE).MatchString(stderr) {
				t.Errorf("stderr does not name the error (%s):\n%s", c.errRE, lastLines(stderr, 5))
			}
			for _, rec := range checkStdout(t, outType[c.tool], r.stdout, nil) {
				if c.tool == "s3copy" && rec.status == record.StatusOK {
					t.Errorf("output row %q %s, though every copy must fail", rec.key, rec.status)
				}
				if slices.Contains(c.deny, rec.key) {
					t.Errorf("output row for %q (%s), which the fatal error stopped", rec.key, rec.status)
				}
			}
		})
	}
}

// denyProxy forwards to target but answers 403 AccessDenied to any read of
// a key under bucket/deny/ — MinIO's root identity, which the tests use,
// bypasses bucket policies, so a policy cannot deny it one object.
func denyProxy(t *testing.T, target, bucket string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	// The proxy keeps the Host header (the client signed the proxy's
	// host:port and MinIO checks the signature against what it receives).
	rp := httputil.NewSingleHostReverseProxy(u)
	prefix := "/" + bucket + "/deny/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.Path, prefix) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			if r.Method == http.MethodGet {
				fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><Resource>%s</Resource></Error>`, r.URL.Path)
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// One object the identity may not read fails that object (exit 1) and the
// run copies the others.
func TestBadPermissionOneObject(t *testing.T) {
	fx := newBadFixture(t)
	e := fx.e
	proxy := denyProxy(t, e.src.Endpoint, e.srcB)
	viaProxy := func(c *exec.Cmd) *exec.Cmd {
		c.Env = append(c.Env, "S3PIPE_SRC_ENDPOINT_URL="+proxy)
		return c
	}
	dstList := e.path("dst.tsv")
	if err := os.WriteFile(dstList, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st := e.pipeline("", e.path("report.tsv"), viaProxy(e.cmd("s3list", "--bucket", e.srcB)), e.cmd("s3diff", "--dst", dstList),
		viaProxy(e.cmd("s3mpplan", "--dst-bucket", e.dstB)), viaProxy(e.cmd("s3copy")), e.cmd("s3mpdone"))
	noPanic(t, st)
	e.mustOK(st[:3])
	for _, s := range st[3:] {
		if s.exitCode() != 1 {
			t.Errorf("%s exited %d, want 1 (some objects failed)\n%s", s.name(), s.exitCode(), lastLines(s.stderr.String(), 5))
		}
	}
	rep := readReport(t, e.path("report.tsv"))
	checkOneRowEach(t, rep, map[string]string{"a": "copied", "b": "copied", "c": "copied", "m": "copied", "deny/x": "failed", "deny/m": "failed"})
	if r := rep["deny/x"]; len(r) == 1 && r[0].ErrorCode != "AccessDenied" {
		t.Errorf("deny/x: %s %s, want AccessDenied", r[0].ErrorCode, r[0].Message)
	}
	if r := rep["deny/m"]; len(r) == 1 && r[0].ErrorCode != "Forbidden" && r[0].ErrorCode != "AccessDenied" {
		t.Errorf("deny/m: %s %s, want Forbidden or AccessDenied", r[0].ErrorCode, r[0].Message)
	}
	got := listing(t, e.dst.Client(t), e.dstB)
	for _, k := range []string{"a", "b", "c", "m"} {
		if _, ok := got[k]; !ok {
			t.Errorf("%q not copied", k)
		}
	}
	for _, k := range []string{"deny/x", "deny/m"} {
		if _, ok := got[k]; ok {
			t.Errorf("%q copied although its source is denied", k)
		}
	}
	if n := uploadsLeft(t, e.dst.Client(t), e.dstB); n != 0 {
		t.Errorf("%d uploads left", n)
	}
}
