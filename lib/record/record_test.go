package record

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3pipe/s3pipe/lib/tsv"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

var (
	t0 = time.Date(2024, 3, 17, 12, 34, 56, 0, time.UTC)
	t1 = time.Date(2009, 2, 28, 23, 59, 59, 0, time.UTC)

	// nastyKey holds every byte class the format must carry: tab, LF, CR,
	// backslash, a literal \N, invalid UTF-8, NUL, DEL, C1 controls, unicode.
	nastyKey = "dir/a\tb\nc\rd\\e\\N\\\\N\x00\x7f\xff\xfe\u0085\u009fé日本😀 e\u0301/\\"
)

func longKey() string {
	k := strings.Repeat("k\\\t\n", 256)
	return k[:1024]
}

// writeLine encodes one record with its Write method.
func writeLine(t testing.TB, write func(*tsv.Writer) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := tsv.NewWriter(&buf)
	if err := write(w); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return buf.Bytes()
}

// readFields reads the one record in line.
func readFields(t testing.TB, line []byte, cols int) [][]byte {
	t.Helper()
	r := tsv.NewReader(bytes.NewReader(line))
	f, err := r.ReadN(cols)
	if err != nil {
		t.Fatalf("reading %q: %v", line, err)
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("%q is more than one line", line)
	}
	return f
}

var objects = []struct {
	name string
	o    Object
}{
	{"plain", Object{Key: "data/2024/03/part-00000.parquet", ETag: "9b2cf535f27731c974343645a3985328", Size: 1234567,
		MTime: t0, StorageClass: "STANDARD", Bucket: "src"}},
	{"NULL columns", Object{Key: "k", ETag: "e", Size: 0}},
	{"version id null is a value", Object{Key: "k", ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 0, MTime: t1,
		StorageClass: "STANDARD", VersionID: "null", IsLatest: BoolTrue, Bucket: "b"}},
	{"older version", Object{Key: "k", ETag: "0123456789abcdef0123456789abcdef-12", Size: 200 << 20, MTime: t1,
		StorageClass: "GLACIER_IR", VersionID: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
		IsLatest: BoolFalse, Bucket: "b"}},
	{"delete marker", Object{Key: "gone.txt", MTime: t0, VersionID: "dm1", IsLatest: BoolTrue, DeleteMarker: true,
		Bucket: "b"}},
	{"nasty key", Object{Key: nastyKey, ETag: "e", Size: 1, MTime: t0, Bucket: "b\tc"}},
	{"key is \\N", Object{Key: `\N`, ETag: `\N`, Size: 2, StorageClass: `\N`, VersionID: `\N`, Bucket: `\N`}},
	{"key is null", Object{Key: "null", ETag: "null", Size: 3, VersionID: "null", Bucket: "null"}},
	{"empty key", Object{Key: "", ETag: "e", Size: 4}},
	{"1024-byte key", Object{Key: longKey(), ETag: "e", Size: 5 << 40, MTime: t0}},
	{"max size", Object{Key: "k", ETag: "e", Size: 1<<63 - 1}},
}

var plans = []struct {
	name string
	p    Plan
}{
	{"copy", Plan{Key: "a/b.txt", ETag: "9b2cf535f27731c974343645a3985328", Size: 1000, MTime: t0,
		StorageClass: "STANDARD", SrcBucket: "src", DstBucket: "dst", Length: 1000, Verify: VerifyETag,
		Action: ActionCopy}},
	{"part", Plan{Key: "big.bin", ETag: "0123456789abcdef0123456789abcdef-3", Size: 20 << 20, MTime: t0,
		StorageClass: "STANDARD_IA", VersionID: "null", SrcBucket: "src", DstBucket: "dst",
		UploadID: "2~abc\\def", PartNumber: 3, PartCount: 3, Offset: 16 << 20, Length: 4 << 20,
		Verify: VerifyETag, Action: ActionPart}},
	{"part with size verify", Plan{Key: nastyKey, ETag: "e-2", Size: 10, SrcBucket: "s", DstBucket: "d",
		UploadID: "u", PartNumber: 1, PartCount: 10000, Offset: 0, Length: 10, Verify: VerifySize, Action: ActionPart}},
	{"skip", Plan{Key: "same", ETag: "e", Size: 7, MTime: t1, Length: 7, Verify: VerifyETag, Action: ActionSkip,
		Note: "destination has the same ETag"}},
	{"fail with nasty note", Plan{Key: "k", ETag: "e", Verify: VerifySize, Action: ActionFail,
		Note: "HeadObject: 403\tForbidden\nline two \\N"}},
	{"NULL columns", Plan{Key: "k", Verify: VerifyETag, Action: ActionCopy}},
}

var results = []struct {
	name string
	r    Result
}{
	{"ok", Result{Plan: plans[0].p, Status: StatusOK, DstETag: "9b2cf535f27731c974343645a3985328",
		DstVersionID: "null", Proof: ProofETag}},
	{"part ok", Result{Plan: plans[1].p, Status: StatusOK, DstETag: "part-etag", Proof: ProofContentMD5}},
	{"failed", Result{Plan: plans[2].p, Status: StatusFailed, ErrorCode: "AccessDenied", HTTPStatus: 403,
		Message: "upload part 1 of s3://d/k:\n\tAccess Denied\r\\"}},
	{"skipped", Result{Plan: plans[3].p, Status: StatusSkipped}},
	{"checksum proof", Result{Plan: plans[0].p, Status: StatusOK, DstETag: "x", Proof: ProofChecksum}},
	{"server proof", Result{Plan: plans[0].p, Status: StatusOK, DstETag: "y", Proof: ProofServer}},
}

var reports = []struct {
	name string
	r    Report
}{
	{"copied", Report{Bucket: "src", Key: "a/b.txt", VersionID: "null", Status: OutcomeCopied,
		SrcETag: "9b2cf535f27731c974343645a3985328", DstETag: "9b2cf535f27731c974343645a3985328", Size: 1000,
		MTime: t0, StorageClass: "STANDARD", DstBucket: "dst", DstVersionID: "v2", Proof: ProofETag}},
	{"skipped", Report{Key: "same", Status: OutcomeSkipped, SrcETag: "e", Size: 7, Message: "same ETag"}},
	{"failed", Report{Bucket: "src", Key: nastyKey, Status: OutcomeFailed, ErrorCode: "SlowDown", HTTPStatus: 503,
		Message: "gave up after 10 tries\n", SrcETag: "e-2", Size: 10, MTime: t1}},
	{"NULL columns", Report{Key: "k", Status: OutcomeFailed}},
	{"1024-byte key", Report{Key: longKey(), Status: OutcomeCopied, Proof: ProofServer}},
}

func TestObjectRoundTrip(t *testing.T) {
	for _, tt := range objects {
		t.Run(tt.name, func(t *testing.T) {
			line := writeLine(t, tt.o.Write)
			var got Object
			if err := ParseObject(readFields(t, line, ObjectColumns), &got); err != nil {
				t.Fatalf("ParseObject(%q): %v", line, err)
			}
			if got != tt.o {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tt.o)
			}
		})
	}
}

func TestPlanRoundTrip(t *testing.T) {
	for _, tt := range plans {
		t.Run(tt.name, func(t *testing.T) {
			line := writeLine(t, tt.p.Write)
			var got Plan
			if err := ParsePlan(readFields(t, line, PlanColumns), &got); err != nil {
				t.Fatalf("ParsePlan(%q): %v", line, err)
			}
			if got != tt.p {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tt.p)
			}
			o := got.PlanObject()
			if o.Key != tt.p.Key || o.ETag != tt.p.ETag || o.Bucket != tt.p.SrcBucket || o.VersionID != tt.p.VersionID {
				t.Errorf("PlanObject = %+v", o)
			}
		})
	}
}

func TestResultRoundTrip(t *testing.T) {
	for _, tt := range results {
		t.Run(tt.name, func(t *testing.T) {
			line := writeLine(t, tt.r.Write)
			var got Result
			if err := ParseResult(readFields(t, line, ResultColumns), &got); err != nil {
				t.Fatalf("ParseResult(%q): %v", line, err)
			}
			if got != tt.r {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tt.r)
			}
			// A result row starts with its plan row, byte for byte.
			plan := writeLine(t, tt.r.Plan.Write)
			if !bytes.HasPrefix(line, plan[:len(plan)-1]) || line[len(plan)-1] != '\t' {
				t.Errorf("result %q does not start with its plan %q", line, plan)
			}
		})
	}
}

func TestReportRoundTrip(t *testing.T) {
	for _, tt := range reports {
		t.Run(tt.name, func(t *testing.T) {
			line := writeLine(t, tt.r.Write)
			var got Report
			if err := ParseReport(readFields(t, line, ReportColumns), &got); err != nil {
				t.Fatalf("ParseReport(%q): %v", line, err)
			}
			if got != tt.r {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tt.r)
			}
			o := got.Object()
			if o.Key != tt.r.Key || o.ETag != tt.r.SrcETag || o.Size != tt.r.Size || o.Bucket != tt.r.Bucket ||
				o.VersionID != tt.r.VersionID || o.MTime != tt.r.MTime || o.StorageClass != tt.r.StorageClass {
				t.Errorf("Object() = %+v", o)
			}
		})
	}
}

// Columns that look alike must stay apart: version id "null" is S3's id of an
// object written while versioning was off, an empty version id is NULL (the
// listing was not version-aware), and the value `\N` is neither.
func TestNullColumns(t *testing.T) {
	tests := []struct {
		o    Object
		want string
	}{
		{Object{Key: "k", ETag: "e", Size: 1, VersionID: "null"}, "k\te\t1\t\\N\t\\N\tnull\t\\N\tfalse\t\\N\n"},
		{Object{Key: "k", ETag: "e", Size: 1}, "k\te\t1\t\\N\t\\N\t\\N\t\\N\tfalse\t\\N\n"},
		{Object{Key: "k", ETag: "e", Size: 1, VersionID: `\N`}, "k\te\t1\t\\N\t\\N\t\\\\N\t\\N\tfalse\t\\N\n"},
		{Object{Key: "k", Size: 1, MTime: t0, IsLatest: BoolFalse, DeleteMarker: true},
			"k\t\t1\t2024-03-17 12:34:56\t\\N\t\\N\tfalse\ttrue\t\\N\n"},
	}
	for _, tt := range tests {
		if got := string(writeLine(t, tt.o.Write)); got != tt.want {
			t.Errorf("Write(%+v)\n got %q\nwant %q", tt.o, got, tt.want)
		}
	}
}

// MTime is written in UTC to the second.
func TestMTimeUTC(t *testing.T) {
	pdt := time.FixedZone("PDT", -7*3600)
	o := Object{Key: "k", ETag: "e", MTime: time.Date(2024, 3, 17, 5, 34, 56, 999_000_000, pdt)}
	line := writeLine(t, o.Write)
	if !bytes.Contains(line, []byte("\t2024-03-17 12:34:56\t")) {
		t.Fatalf("mtime not written in UTC to the second: %q", line)
	}
	var got Object
	if err := ParseObject(readFields(t, line, ObjectColumns), &got); err != nil || !got.MTime.Equal(t0) {
		t.Fatalf("read back %v, %v", got.MTime, err)
	}
}

// goldenRecords writes one of each record case into a golden file, each
// type after a "# type" line.
func goldenRecords(t *testing.T) []byte {
	var buf bytes.Buffer
	w := tsv.NewWriter(&buf)
	section := func(name string) {
		w.Flush()
		fmt.Fprintf(&buf, "# %s\n", name)
	}
	section("object")
	for _, tt := range objects {
		tt.o.Write(w)
	}
	section("plan")
	for _, tt := range plans {
		tt.p.Write(w)
	}
	section("result")
	for _, tt := range results {
		tt.r.Write(w)
	}
	section("report")
	for _, tt := range reports {
		tt.r.Write(w)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGolden pins the exact bytes of every record type: a change here is a
// change to the format other tools (and Hive tables) read. Run
// `go test ./lib/record -run Golden -update` after a deliberate change, and
// update docs/FORMAT.md with it.
func TestGolden(t *testing.T) {
	path := filepath.Join("testdata", "records.golden")
	got := goldenRecords(t)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if !bytes.Equal(gl[i], wl[i]) {
				t.Fatalf("%s line %d differs (run with -update if deliberate):\n got %q\nwant %q", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: %d lines, want %d (run with -update if deliberate)", path, len(gl), len(wl))
	}

	// Every line of the golden file parses as its section's type.
	r := tsv.NewReader(bytes.NewReader(want))
	r.Name = path
	counts := map[string]int{}
	kind := ""
	for {
		line, err := r.ReadLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := bytes.CutPrefix(line, []byte("# ")); ok {
			kind = string(s)
			continue
		}
		fields, err := splitLine(line)
		if err != nil {
			t.Fatalf("%s line %d: %v", path, r.Line(), err)
		}
		switch kind {
		case "object":
			var o Object
			err = ParseObject(fields, &o)
		case "plan":
			var p Plan
			err = ParsePlan(fields, &p)
		case "result":
			var x Result
			err = ParseResult(fields, &x)
		case "report":
			var x Report
			err = ParseReport(fields, &x)
		default:
			t.Fatalf("%s line %d: no section", path, r.Line())
		}
		if err != nil {
			t.Fatalf("%s line %d (%s): %v", path, r.Line(), kind, AtLine(r, err))
		}
		counts[kind]++
	}
	want4 := map[string]int{"object": len(objects), "plan": len(plans), "result": len(results), "report": len(reports)}
	if fmt.Sprint(counts) != fmt.Sprint(want4) {
		t.Errorf("golden sections hold %v records, want %v", counts, want4)
	}
}

// splitLine decodes one raw line into fields (copies).
func splitLine(line []byte) ([][]byte, error) {
	r := tsv.NewReader(bytes.NewReader(append(append([]byte{}, line...), '\n')))
	f, err := r.Read()
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(f))
	for i, b := range f {
		if b != nil {
			out[i] = append([]byte{}, b...)
		}
	}
	return out, nil
}

// parseFunc parses one record type from fields.
type parseFunc func([][]byte) error

var parsers = map[string]struct {
	cols  int
	base  func(t testing.TB) [][]byte
	parse parseFunc
}{
	"object": {ObjectColumns, func(t testing.TB) [][]byte { return mustSplit(t, writeLine(t, objects[0].o.Write)) },
		func(f [][]byte) error { var o Object; return ParseObject(f, &o) }},
	"plan": {PlanColumns, func(t testing.TB) [][]byte { return mustSplit(t, writeLine(t, plans[1].p.Write)) },
		func(f [][]byte) error { var p Plan; return ParsePlan(f, &p) }},
	"result": {ResultColumns, func(t testing.TB) [][]byte { return mustSplit(t, writeLine(t, results[1].r.Write)) },
		func(f [][]byte) error { var r Result; return ParseResult(f, &r) }},
	"report": {ReportColumns, func(t testing.TB) [][]byte { return mustSplit(t, writeLine(t, reports[0].r.Write)) },
		func(f [][]byte) error { var r Report; return ParseReport(f, &r) }},
}

func mustSplit(t testing.TB, line []byte) [][]byte {
	t.Helper()
	f, err := splitLine(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// null marks a column set to NULL in a parse-error case.
const null = "\x00NULL"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		kind string
		set  map[int]string // 1-based column -> value (null = NULL)
		cols int            // when > 0, keep only this many columns
		col  int            // want column (0 = whole record)
		text string         // want error text after "line 2, column C: "
	}{
		// object
		{"object", map[int]string{3: "12x"}, 0, 3, `size: want a non-negative integer, got "12x"`},
		{"object", map[int]string{3: "-1"}, 0, 3, `size: want a non-negative integer, got "-1"`},
		{"object", map[int]string{3: "+1"}, 0, 3, `size: want a non-negative integer, got "+1"`},
		{"object", map[int]string{3: ""}, 0, 3, `size: want a non-negative integer, got ""`},
		{"object", map[int]string{3: "9223372036854775808"}, 0, 3, `size: want a non-negative integer, got "9223372036854775808"`},
		{"object", map[int]string{3: "99999999999999999999"}, 0, 3, `size: want a non-negative integer, got "99999999999999999999"`},
		{"object", map[int]string{3: null}, 0, 3, "size: must not be NULL"},
		{"object", map[int]string{1: null}, 0, 1, "key: must not be NULL"},
		{"object", map[int]string{4: "2024-03-17T12:34:56"}, 0, 4, `mtime: want YYYY-MM-DD HH:MM:SS, got "2024-03-17T12:34:56"`},
		{"object", map[int]string{4: "2024-03-17 12:34:56Z"}, 0, 4, `mtime: want YYYY-MM-DD HH:MM:SS, got "2024-03-17 12:34:56Z"`},
		{"object", map[int]string{4: "2024-13-01 00:00:00"}, 0, 4, `mtime: want a valid YYYY-MM-DD HH:MM:SS, got "2024-13-01 00:00:00"`},
		{"object", map[int]string{4: "2023-02-29 00:00:00"}, 0, 4, `mtime: want a valid YYYY-MM-DD HH:MM:SS, got "2023-02-29 00:00:00"`},
		{"object", map[int]string{4: "2024-04-31 00:00:00"}, 0, 4, `mtime: want a valid YYYY-MM-DD HH:MM:SS, got "2024-04-31 00:00:00"`},
		{"object", map[int]string{4: "2024-01-01 23:59:60"}, 0, 4, `mtime: want a valid YYYY-MM-DD HH:MM:SS, got "2024-01-01 23:59:60"`},
		{"object", map[int]string{4: "2024-01-01 24:00:00"}, 0, 4, `mtime: want a valid YYYY-MM-DD HH:MM:SS, got "2024-01-01 24:00:00"`},
		{"object", map[int]string{4: "2024-0a-01 00:00:00"}, 0, 4, `mtime: want a valid YYYY-MM-DD HH:MM:SS, got "2024-0a-01 00:00:00"`},
		{"object", map[int]string{7: "yes"}, 0, 7, `is_latest: want true, false or \N, got "yes"`},
		{"object", map[int]string{7: "TRUE"}, 0, 7, `is_latest: want true, false or \N, got "TRUE"`},
		{"object", map[int]string{8: null}, 0, 8, "delete_marker: want true or false"},
		{"object", map[int]string{8: "1"}, 0, 8, "delete_marker: want true or false"},
		{"object", nil, 8, 0, "wrong number of columns: got 8, want 9 (object record)"},
		{"object", nil, 4, 0, "wrong number of columns: got 4, want 9 (object record)"},
		// plan
		{"plan", map[int]string{3: "1e6"}, 0, 3, `size: want a non-negative integer, got "1e6"`},
		{"plan", map[int]string{10: "0"}, 0, 10, `part_number: want 1..10000 or \N, got "0"`},
		{"plan", map[int]string{10: "10001"}, 0, 10, `part_number: want 1..10000 or \N, got "10001"`},
		{"plan", map[int]string{11: "x"}, 0, 11, `part_count: want 1..10000 or \N, got "x"`},
		{"plan", map[int]string{12: null}, 0, 12, "offset: must not be NULL"},
		{"plan", map[int]string{13: "-5"}, 0, 13, `length: want a non-negative integer, got "-5"`},
		{"plan", map[int]string{13: "4194305"}, 0, 13, "length: offset 16777216 + length 4194305 exceeds size 20971520"},
		{"plan", map[int]string{14: "md5"}, 0, 14, `verify: want etag or size, got "md5"`},
		{"plan", map[int]string{14: null}, 0, 14, `verify: want etag or size, got ""`},
		{"plan", map[int]string{15: "move"}, 0, 15, `action: want copy, part, skip or fail, got "move"`},
		{"plan", map[int]string{15: "COPY"}, 0, 15, `action: want copy, part, skip or fail, got "COPY"`},
		{"plan", map[int]string{9: null}, 0, 15, "action: a part row needs upload_id, part_number and part_count with part_number <= part_count"},
		{"plan", map[int]string{10: null}, 0, 15, "action: a part row needs upload_id, part_number and part_count with part_number <= part_count"},
		{"plan", map[int]string{11: "2"}, 0, 15, "action: a part row needs upload_id, part_number and part_count with part_number <= part_count"},
		{"plan", nil, 17, 0, "wrong number of columns: got 17, want 16 (plan record)"},
		// result
		{"result", map[int]string{3: "x"}, 0, 3, `size: want a non-negative integer, got "x"`},
		{"result", map[int]string{15: "copied"}, 0, 15, `action: want copy, part, skip or fail, got "copied"`},
		{"result", map[int]string{17: "copied"}, 0, 17, `status: want ok, skipped or failed, got "copied"`},
		{"result", map[int]string{17: null}, 0, 17, `status: want ok, skipped or failed, got ""`},
		{"result", map[int]string{21: "1000"}, 0, 21, `http_status: want an HTTP status (100..999) or \N, got "1000"`},
		{"result", map[int]string{21: "0"}, 0, 21, `http_status: want an HTTP status (100..999) or \N, got "0"`},
		{"result", nil, 16, 0, "wrong number of columns: got 16, want 23 (result record)"},
		// report
		{"report", map[int]string{2: null}, 0, 2, "key: must not be NULL"},
		{"report", map[int]string{4: "ok"}, 0, 4, `status: want copied, skipped or failed, got "ok"`},
		{"report", map[int]string{6: "abc"}, 0, 6, `http_status: want an HTTP status (100..999) or \N, got "abc"`},
		{"report", map[int]string{10: "1.5"}, 0, 10, `size: want a non-negative integer, got "1.5"`},
		{"report", map[int]string{11: "17/03/2024"}, 0, 11, `mtime: want YYYY-MM-DD HH:MM:SS, got "17/03/2024"`},
		{"report", nil, 9, 0, "wrong number of columns: got 9, want 15 (report record)"},
	}
	for _, tt := range tests {
		p := parsers[tt.kind]
		good := p.base(t)
		bad := append([][]byte{}, good...)
		for col, v := range tt.set {
			if v == null {
				bad[col-1] = nil
			} else {
				bad[col-1] = []byte(v)
			}
		}
		if tt.cols > 0 {
			for len(bad) < tt.cols {
				bad = append(bad, []byte("extra"))
			}
			bad = bad[:tt.cols]
		}
		// The bad record is line 2 of a stream.
		var in bytes.Buffer
		w := tsv.NewWriter(&in)
		w.Record(good)
		w.Record(bad)
		w.Flush()
		r := tsv.NewReader(&in)
		r.Name = "stdin"
		f, err := r.Read()
		if err != nil || p.parse(f) != nil {
			t.Fatalf("%s: the good record does not parse: %v", tt.kind, err)
		}
		f, err = r.Read()
		if err != nil {
			t.Fatalf("%s %v: %v", tt.kind, tt.set, err)
		}
		err = p.parse(f)
		if err == nil {
			t.Errorf("%s %v: parsed without error", tt.kind, tt.set)
			continue
		}
		var ce *ColumnError
		if !errors.As(err, &ce) || ce.Column != tt.col {
			t.Errorf("%s %v: error %v at column %v, want column %d", tt.kind, tt.set, err, ce, tt.col)
		}
		err = AtLine(r, err)
		var pe *tsv.ParseError
		if !errors.As(err, &pe) || pe.Line != 2 || pe.Column != tt.col {
			t.Errorf("%s %v: AtLine gave %v", tt.kind, tt.set, err)
		}
		where := "stdin: line 2, column " + fmt.Sprint(tt.col) + ": "
		if tt.col == 0 {
			where = "stdin: line 2: "
			if !errors.Is(err, tsv.ErrFieldCount) {
				t.Errorf("%s: %v is not tsv.ErrFieldCount", tt.kind, err)
			}
		}
		if got := err.Error(); got != where+tt.text {
			t.Errorf("%s %v:\n got %s\nwant %s", tt.kind, tt.set, got, where+tt.text)
		}
	}
}

func TestAtLine(t *testing.T) {
	r := tsv.NewReader(strings.NewReader("a\nb\nc\n"))
	for i := 0; i < 3; i++ {
		r.Read()
	}
	err := AtLine(r, &ColumnError{Column: 3, Name: "size", Err: errors.New("bad")})
	if got := err.Error(); got != "line 3, column 3: size: bad" {
		t.Errorf("got %q", got)
	}
	plain := errors.New("not a column error")
	err = AtLine(r, plain)
	var pe *tsv.ParseError
	if !errors.As(err, &pe) || pe.Column != 0 || !errors.Is(err, plain) || err.Error() != "line 3: not a column error" {
		t.Errorf("got %v", err)
	}
}

// The leap-day rule: 2024 and 2000 have a February 29, 2023 and 1900 do not.
func TestParseTimeDates(t *testing.T) {
	for s, ok := range map[string]bool{
		"2024-02-29 00:00:00": true, "2000-02-29 12:00:00": true, "2023-02-29 00:00:00": false,
		"1900-02-29 00:00:00": false, "2024-12-31 23:59:59": true, "2024-06-31 00:00:00": false,
		"0000-01-01 00:00:00": true, "2024-00-10 00:00:00": false, "2024-01-00 00:00:00": false,
	} {
		tm, err := parseTime([]byte(s))
		if (err == nil) != ok {
			t.Errorf("parseTime(%q) error %v, want ok=%v", s, err, ok)
		}
		if ok && tm.Format(TimeLayout) != s {
			t.Errorf("parseTime(%q) = %s", s, tm.Format(TimeLayout))
		}
	}
}

func TestReadAll(t *testing.T) {
	var b bytes.Buffer
	w := tsv.NewWriter(&b)
	for _, k := range []string{"a\tb", `\N`} {
		o := Object{Key: k, ETag: "e", Size: 1}
		o.Write(w)
	}
	w.Flush()
	got, err := ReadAll(bytes.NewReader(b.Bytes()), ParseObject)
	if err != nil || len(got) != 2 || got[0].Key != "a\tb" || got[1].Key != `\N` {
		t.Fatalf("ReadAll = %+v, %v", got, err)
	}
	_, err = ReadAll(strings.NewReader(b.String()+"x\n"), ParseObject)
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("bad third line: %v, want an error naming line 3", err)
	}
}
