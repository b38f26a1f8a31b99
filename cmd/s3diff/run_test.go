package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/s3pipe/s3pipe/lib/s3test"
	"github.com/s3pipe/s3pipe/lib/stream"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func TestMain(m *testing.M) { s3test.Main(m) }

// runCLI parses args like the binary and runs s3diff in-process. It returns
// stdout and stderr as the binary would print them, ending with the exit
// code line "exit N".
func runCLI(t testing.TB, stdin []byte, env map[string]string, args ...string) (stdout, stderr string) {
	t.Helper()
	var c CLI
	parser, err := kong.New(&c, kong.Name("s3diff"), kong.Exit(func(int) { t.Fatalf("kong exited on %q", args) }))
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if _, err := parser.Parse(args); err != nil {
		fmt.Fprintf(&errb, "s3diff: %v\nexit %d\n", err, stream.ExitUsage)
		return "", errb.String()
	}
	sio := &stream.IO{Stdin: bytes.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	err = run(context.Background(), &c, sio)
	code, msg := stream.ExitCode(err)
	if msg != "" {
		fmt.Fprintf(&errb, "s3diff: %s\n", msg)
	}
	fmt.Fprintf(&errb, "exit %d\n", code)
	return out.String(), errb.String()
}

// TestGolden runs each directory of testdata/golden: args (with $DIR for
// a scratch copy of the directory), src.tsv on stdin, and compares stdout,
// stderr (counters, error, exit code) and the files named in outputs with
// want.* files. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/golden/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			tmp := t.TempDir()
			for _, f := range []string{"src.tsv", "dst.tsv"} {
				if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
					if err := os.WriteFile(filepath.Join(tmp, f), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			src, err := os.ReadFile(filepath.Join(dir, "src.tsv"))
			if err != nil {
				t.Fatal(err)
			}
			argText, err := os.ReadFile(filepath.Join(dir, "args"))
			if err != nil {
				t.Fatal(err)
			}
			args := strings.Fields(strings.ReplaceAll(string(argText), "$DIR", tmp))
			stdout, stderr := runCLI(t, src, nil, args...)
			got := map[string]string{"want.stdout": stdout, "want.stderr": strings.ReplaceAll(stderr, tmp, "$DIR")}
			outs, _ := os.ReadFile(filepath.Join(dir, "outputs"))
			for _, f := range strings.Fields(string(outs)) {
				b, err := os.ReadFile(filepath.Join(tmp, f))
				if err != nil {
					t.Fatalf("output %s: %v", f, err)
				}
				got["want."+f] = string(b)
			}
			for name, g := range got {
				path := filepath.Join(dir, name)
				if *update {
					if err := os.WriteFile(path, []byte(g), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if g != string(want) {
					t.Errorf("%s differs:\n--- got\n%s--- want\n%s", name, g, want)
				}
			}
		})
	}
}

const listing = "a\tea\t1\t2024-03-17 12:00:00\tSTANDARD\t\\N\t\\N\tfalse\tbkt\n" +
	"a\\tb\te\t1\t2024-03-17 12:00:00\tSTANDARD\t\\N\t\\N\tfalse\tbkt\n" +
	"a0\te\t5\t2024-03-17 12:00:00\tSTANDARD\t\\N\t\\N\tfalse\tbkt\n" +
	"b\te\t1\t2024-03-17 12:00:00\tSTANDARD\t\\N\t\\N\tfalse\tbkt\n"

const oldListing = "a\tea\t1\t2024-03-17 12:00:00\tSTANDARD\t\\N\t\\N\tfalse\tbkt\n" +
	"a0\te\t4\t2024-03-17 12:00:00\tSTANDARD\t\\N\t\\N\tfalse\tbkt\n" +
	"c\te\t1\t2024-03-17 12:00:00\tSTANDARD\t\\N\t\\N\tfalse\tbkt\n"

// wantCopy is what listing vs oldListing must emit: a\tb missing, a0
// changed in size, b missing.
var wantCopy = "a\\tb\te\t1\t2024-03-17 12:00:00\tSTANDARD\t\\N\t\\N\tfalse\tbkt\n" +
	"a0\te\t5\t2024-03-17 12:00:00\tSTANDARD\t\\N\t\\N\tfalse\tbkt\n" +
	"b\te\t1\t2024-03-17 12:00:00\tSTANDARD\t\\N\t\\N\tfalse\tbkt\n"

// TestCompressedAndPipeInputs reads the destination from .gz and .zst
// files, from a compressed stream with no telling name (magic bytes), and
// from a named pipe; the source is also read gzip-compressed from stdin.
func TestCompressedAndPipeInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gz := func(b string) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write([]byte(b))
		w.Close()
		return buf.Bytes()
	}
	zst := func(b string) []byte {
		var buf bytes.Buffer
		w, _ := zstd.NewWriter(&buf)
		w.Write([]byte(b))
		w.Close()
		return buf.Bytes()
	}
	fifo := filepath.Join(dir, "dst.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		// Opening a FIFO for writing blocks until s3diff opens it.
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.WriteString(oldListing)
		f.Close()
	}()
	tests := []struct {
		name  string
		stdin []byte
		dst   string
	}{
		{"plain", []byte(listing), write("dst.tsv", []byte(oldListing))},
		{"gz", []byte(listing), write("dst.tsv.gz", gz(oldListing))},
		{"zst", []byte(listing), write("dst.tsv.zst", zst(oldListing))},
		{"sniffed gzip without extension", []byte(listing), write("dst-gz", gz(oldListing))},
		{"sniffed zstd without extension", []byte(listing), write("dst-zst", zst(oldListing))},
		{"gzip on stdin", gz(listing), write("dst2.tsv", []byte(oldListing))},
		{"named pipe", []byte(listing), fifo},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr := runCLI(t, tc.stdin, nil, "--dst", tc.dst, "-q")
			if stdout != wantCopy || stderr != "exit 0\n" {
				t.Errorf("stdout:\n%q\nstderr: %q\nwant:\n%q", stdout, stderr, wantCopy)
			}
		})
	}
	t.Run("gz extension on plain data", func(t *testing.T) {
		_, stderr := runCLI(t, []byte(listing), nil, "--dst", write("plain.tsv.gz", []byte(oldListing)), "-q")
		if !strings.Contains(stderr, "plain.tsv.gz: content does not match the file extension (want gzip)") || !strings.HasSuffix(stderr, "exit 2\n") {
			t.Errorf("stderr = %q", stderr)
		}
	})
	t.Run("truncated gzip", func(t *testing.T) {
		b := gz(strings.Repeat(oldListing, 100))
		_, stderr := runCLI(t, []byte(listing), nil, "--dst", write("cut.tsv.gz", b[:len(b)/2]), "-q")
		if !strings.Contains(stderr, "cut.tsv.gz") || strings.HasSuffix(stderr, "exit 0\n") {
			t.Errorf("a truncated .gz must fail naming the file; stderr = %q", stderr)
		}
	})
	t.Run("src from file, dst on stdin", func(t *testing.T) {
		stdout, stderr := runCLI(t, []byte(oldListing), nil, "--src", write("src.tsv", []byte(listing)), "--dst", "-", "-q")
		if stdout != wantCopy || stderr != "exit 0\n" {
			t.Errorf("stdout %q stderr %q", stdout, stderr)
		}
	})
}

// TestReducerCLI runs the documented EMR step locally: the mapper on each
// listing, a byte-wise sort of the mapped lines (LC_ALL=C sort semantics)
// and the reducer; its output must equal the pipe mode's. One partition,
// so the comparison is exact, not as sets.
func TestReducerCLI(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "dst.tsv")
	if err := os.WriteFile(dst, []byte(oldListing), 0o644); err != nil {
		t.Fatal(err)
	}
	pipeOut, pipeErr := runCLI(t, []byte(listing), nil, "--dst", dst, "-q")
	if pipeErr != "exit 0\n" {
		t.Fatal(pipeErr)
	}
	mapSrc, e1 := runCLI(t, []byte(listing), nil, "--map-side", "src", "-q")
	// --map-side input picks the side from the task's input file.
	mapDst, e2 := runCLI(t, []byte(oldListing), map[string]string{"mapreduce_map_input_file": "s3://b/listings/dst/part-0"},
		"--map-side", "input", "--map-dst-prefix", "s3://b/listings/dst/", "-q")
	if e1 != "exit 0\n" || e2 != "exit 0\n" {
		t.Fatal(e1, e2)
	}
	lines := strings.SplitAfter(mapSrc+mapDst, "\n")
	slices.Sort(lines)
	redOut, redErr := runCLI(t, []byte(strings.Join(lines, "")), nil, "--reducer", "-q")
	if redErr != "exit 0\n" || redOut != pipeOut || redOut != wantCopy {
		t.Errorf("reducer:\n%q %q\npipe:\n%q", redOut, redErr, pipeOut)
	}
	// The escaped key would sort a\tb after a0: the hex shuffle key does not.
	if !strings.Contains(mapSrc, "610962\tsrc\ta\\tb\t") {
		t.Errorf("mapped source lacks the hex key of a\\tb:\n%s", mapSrc)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--dst", "-"}, "--src and --dst cannot both be -"},
		{[]string{"--map-side", "src", "--reducer"}, "two different tasks"},
		{[]string{"--map-side", "input"}, "needs --map-dst-prefix"},
		{[]string{"--map-side", "input", "--map-dst-prefix", "x"}, "no input file name in the task environment"},
		{[]string{"--dst", "x", "--emit", "report", "--report", "r.tsv"}, "--report and --emit report both ask"},
		{[]string{"--dst", "x", "--compare", "md5"}, "--compare"},
	}
	for _, tc := range tests {
		_, stderr := runCLI(t, nil, nil, tc.args...)
		if !strings.Contains(stderr, tc.want) || !strings.HasSuffix(stderr, "exit 2\n") {
			t.Errorf("%q: stderr = %q, want %q and exit 2", tc.args, stderr, tc.want)
		}
	}
}
