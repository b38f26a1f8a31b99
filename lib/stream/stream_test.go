package stream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestDetectHadoop(t *testing.T) {
	const nline = "org.apache.hadoop.mapred.lib.NLineInputFormat"
	tests := []struct {
		name string
		env  func(string) string
		want Hadoop
	}{
		{"plain shell", env(), Hadoop{}},
		{"nline mapper", env("mapreduce_task_ismap", "true", "mapred_input_format_class", nline), Hadoop{Task: true, Mapper: true, SkipKey: true}},
		{"nline mapper, new property name", env("mapreduce_task_ismap", "true", "mapreduce_job_inputformat_class", "org.apache.hadoop.mapreduce.lib.input.NLineInputFormat"), Hadoop{Task: true, Mapper: true, SkipKey: true}},
		{"nline mapper, key ignored", env("mapreduce_task_ismap", "true", "mapred_input_format_class", nline, "stream_map_input_ignoreKey", "true"), Hadoop{Task: true, Mapper: true}},
		{"text input mapper (key dropped by streaming)", env("mapreduce_task_ismap", "true", "mapred_input_format_class", "org.apache.hadoop.mapred.TextInputFormat"), Hadoop{Task: true, Mapper: true}},
		{"reducer", env("mapreduce_task_ismap", "false", "mapred_input_format_class", nline), Hadoop{Task: true}},
		{"old property names", env("mapred_task_is_map", "true", "mapred_input_format_class", nline), Hadoop{Task: true, Mapper: true, SkipKey: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DetectHadoop(tt.env); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// In an NLineInputFormat mapper the byte offset Hadoop prepends is dropped,
// so the tool sees the same records as in a shell pipeline.
func TestInputDropsOffsetKey(t *testing.T) {
	plain := "a\t1\nb\\tc\t2\n"
	mapped := "0\ta\t1\n4\tb\\tc\t2\n"
	read := func(in string, getenv func(string) string) [][]string {
		io := &IO{Stdin: strings.NewReader(in), Getenv: getenv}
		r := io.Input(Flags{})
		var out [][]string
		for {
			f, err := r.Read()
			if err != nil {
				break
			}
			var row []string
			for _, x := range f {
				row = append(row, string(x))
			}
			out = append(out, row)
		}
		return out
	}
	want := read(plain, env())
	got := read(mapped, env("mapreduce_task_ismap", "true", "mapred_input_format_class", "org.apache.hadoop.mapred.lib.NLineInputFormat"))
	if fmt.Sprint(got) != fmt.Sprint(want) || len(want) != 2 {
		t.Fatalf("mapper input %q, plain %q", got, want)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		code int
		msg  string
	}{
		{nil, ExitOK, ""},
		{fmt.Errorf("write: %w", syscall.EPIPE), ExitOK, ""},
		{fmt.Errorf("3 rows failed: %w", ErrSomeFailed), ExitSomeFailed, "3 rows failed"},
		{fmt.Errorf("copy: %w", context.Canceled), ExitInterrupted, "interrupted"},
		{&tsv.ParseError{Name: "stdin", Line: 7, Column: 3, Err: errors.New("bad")}, ExitUsage, "stdin: line 7, column 3: bad"},
		{&InputError{Err: errors.New("truncated gzip")}, ExitUsage, "bad input: truncated gzip"},
		{Usagef("--bucket is required"), ExitUsage, "--bucket is required"},
		{errors.New("list s3://b: NoSuchBucket"), ExitFatal, "NoSuchBucket"},
	}
	for _, tt := range tests {
		code, msg := ExitCode(tt.err)
		if code != tt.code || !strings.Contains(msg, tt.msg) {
			t.Errorf("ExitCode(%v) = %d %q, want %d containing %q", tt.err, code, msg, tt.code, tt.msg)
		}
	}
}

func TestReporterMode(t *testing.T) {
	set := counters.New("g", "objects")
	tests := []struct {
		name  string
		io    IO
		flags Flags
		want  string // what Stop leaves on stderr after one count
	}{
		{"pipe: reporter lines", IO{Getenv: env()}, Flags{}, "reporter:counter:g,objects,1\n"},
		{"hadoop task on a tty: still reporter lines", IO{StderrTTY: true, Getenv: env("mapreduce_task_ismap", "true")}, Flags{}, "reporter:counter:g,objects,1\n"},
		{"terminal: progress summary", IO{StderrTTY: true, Getenv: env()}, Flags{}, "\r\x1b[Kg: 1 objects"},
		{"quiet", IO{StderrTTY: true, Getenv: env()}, Flags{Quiet: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			tt.io.Stderr = &b
			s := counters.New(set.Group(), set.Names()...)
			r := tt.io.Reporter(s, tt.flags, counters.Progress{Records: "objects"})
			s.Inc("objects")
			r.Stop()
			if !strings.HasPrefix(b.String(), tt.want) || (tt.want == "" && b.Len() != 0) {
				t.Errorf("stderr %q, want prefix %q", b.String(), tt.want)
			}
		})
	}
}
