package planner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

func newPlanner() *Planner {
	return &Planner{DstBucket: "dst", SrcBucket: "src", Set: counters.New("s3mpplan", CounterNames...)}
}

// TestGolden runs testdata/*.in through PlanAll (no S3 calls: only rows
// that need none) and compares stdout with *.out and the error with *.err.
func TestGolden(t *testing.T) {
	ins, _ := filepath.Glob("testdata/*.in")
	if len(ins) == 0 {
		t.Fatal("no golden cases")
	}
	for _, in := range ins {
		name := strings.TrimSuffix(in, ".in")
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = PlanAll(context.Background(), newPlanner(), tsv.NewReader(bytes.NewReader(data)), &out, 4)
			wantOut, _ := os.ReadFile(name + ".out")
			wantErr, _ := os.ReadFile(name + ".err")
			if out.String() != string(wantOut) {
				t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), wantOut)
			}
			code, msg := stream.ExitCode(err)
			got := ""
			if err != nil {
				got = strings.TrimSpace(msg)
			}
			if got != strings.TrimSpace(string(wantErr)) {
				t.Errorf("error %q (exit %d), want %q", got, code, wantErr)
			}
			if err != nil && code != stream.ExitUsage {
				t.Errorf("exit %d, want 2", code)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int64{"64MiB": 64 << 20, "8M": 8 << 20, "5242880": 5 << 20, "1GiB": 1 << 30, "10MB": 10e6, "1.5MiB": 3 << 19} {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "MiB", "-5MiB", "5 parsecs"} {
		if _, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) accepted", s)
		}
	}
}

// FuzzInput: any input line either plans (skip rows here: no clients) or
// fails with a line-numbered parse error; never a panic.
func FuzzInput(f *testing.F) {
	for _, s := range []string{
		"k\te\t1\t2024-01-01 00:00:00\t\\N\t\\N\t\\N\ttrue\tb\n",
		"b\tk\t\\N\tcopied\t\\N\t\\N\t\\N\te\t\\N\t1\t\\N\t\\N\t\\N\t\\N\t\\N\n",
		"a\tb\n", "\\x\n", "k\t\\N\t-1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := tsv.NewReader(bytes.NewReader(data))
		for {
			x, err := readInput(r)
			if err != nil {
				var pe *tsv.ParseError
				if err.Error() != "EOF" && !errors.As(err, &pe) {
					t.Fatalf("non-parse error %T %v", err, err)
				}
				return
			}
			if x.Obj.Key == "" && x.Report == nil && len(data) == 0 {
				t.Fatal("row from empty input")
			}
		}
	})
}
