// Package stream owns how a tool meets its process: standard streams, the
// Hadoop streaming task environment, counter reporting mode, and the mapping
// from errors to documented exit codes. Nothing below main touches os.Std*,
// os.Getenv or os.Exit; tools receive an *IO instead, so tests run them
// in-process.
package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Exit codes, documented in docs/FORMAT.md.
const (
	ExitOK          = 0
	ExitSomeFailed  = 1   // some records failed; each has its failure row in the output
	ExitUsage       = 2   // bad flags, bad configuration or malformed input
	ExitFatal       = 3   // a fatal runtime error: credentials, missing bucket, broken output
	ExitInterrupted = 130 // SIGINT/SIGTERM; work done so far was written
)

// IO is a tool's view of its process.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// StderrTTY is true when stderr is a terminal.
	StderrTTY bool
}

func (o *IO) getenv(k string) string {
	if o.Getenv == nil {
		return ""
	}
	return o.Getenv(k)
}

// Flags are the runtime flags every tool has (embedded in each kong struct).
type Flags struct {
	Quiet   bool `help:"No progress line or counters on stderr (errors are still printed)." short:"q"`
	MaxLine int  `help:"Longest accepted input line in bytes." default:"1048576" hidden:""`
}

// Hadoop describes the Hadoop streaming task we run in, if any.
type Hadoop struct {
	Task    bool // running as a Hadoop streaming task
	Mapper  bool
	SkipKey bool // input lines carry a leading key (byte offset) to drop
}

// DetectHadoop reads the task environment Hadoop streaming exports (job
// configuration keys with dots replaced by underscores).
func DetectHadoop(getenv func(string) string) Hadoop {
	var h Hadoop
	isMap := getenv("mapreduce_task_ismap")
	if isMap == "" {
		isMap = getenv("mapred_task_is_map")
	}
	h.Task = isMap != "" || getenv("mapreduce_task_attempt_id") != "" || getenv("mapred_task_id") != ""
	h.Mapper = isMap == "true"
	if !h.Mapper {
		return h
	}
	format := getenv("mapred_input_format_class")
	if format == "" {
		format = getenv("mapreduce_job_inputformat_class")
	}
	// Streaming hands a mapper "key\tvalue" unless the key is ignored;
	// TextInputFormat's key is ignored by default, NLineInputFormat's is not.
	if strings.HasSuffix(format, "NLineInputFormat") {
		h.SkipKey = getenv("stream_map_input_ignoreKey") != "true"
	}
	return h
}

// Input returns a TSV reader over stdin that drops Hadoop's byte-offset key
// when the task environment says it is there.
func (o *IO) Input(f Flags) *tsv.Reader {
	r := tsv.NewReader(o.Stdin)
	r.Name = "stdin"
	if f.MaxLine > 0 {
		r.MaxLine = f.MaxLine
	}
	r.SkipKey = DetectHadoop(o.getenv).SkipKey
	return r
}

// Reporter starts the counter reporter in the mode that fits: Hadoop
// reporter lines under Hadoop or off a terminal, a live line on a terminal,
// nothing with --quiet.
func (o *IO) Reporter(set *counters.Set, f Flags, p counters.Progress) *counters.Reporter {
	mode := counters.ModeReporter
	switch {
	case f.Quiet:
		mode = counters.ModeQuiet
	case o.StderrTTY && !DetectHadoop(o.getenv).Task:
		mode = counters.ModeProgress
	}
	return counters.Start(set, o.Stderr, counters.Options{Mode: mode, Progress: p})
}

// UsageError is a configuration or flag error (exit 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ErrSomeFailed means the run finished but some records failed; their rows
// are in the output (exit 1).
var ErrSomeFailed = errors.New("some records failed (see their rows in the output)")

// InputError marks malformed input (exit 2).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// ExitCode maps a tool's error to its exit code and the message to print
// ("" for none). Downstream closing the pipe (| head) ends quietly.
func ExitCode(err error) (int, string) {
	if err == nil {
		return ExitOK, ""
	}
	var pe *tsv.ParseError
	var ue *UsageError
	var ie *InputError
	switch {
	case errors.Is(err, syscall.EPIPE):
		return ExitOK, ""
	case errors.Is(err, ErrSomeFailed):
		return ExitSomeFailed, err.Error()
	case errors.Is(err, context.Canceled):
		return ExitInterrupted, "interrupted: " + err.Error()
	case errors.As(err, &pe), errors.As(err, &ie):
		return ExitUsage, "bad input: " + err.Error()
	case errors.As(err, &ue):
		return ExitUsage, err.Error()
	}
	return ExitFatal, err.Error()
}
