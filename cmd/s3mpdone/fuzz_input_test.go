package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// FuzzInput runs s3mpdone's whole input path (run: read, parse, collect
// parts, complete, report) on arbitrary stdin, against a fake S3 that
// answers every request 404 NoSuchUpload. Whatever the input: no panic; an
// input error names a line; stdout holds only complete report rows, each
// for a key of an input line before the bad one.
func FuzzInput(f *testing.F) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		if r.Method != http.MethodHead {
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>`)
		}
	}))
	defer fake.Close()
	f.Setenv("AWS_ACCESS_KEY_ID", "fuzz")
	f.Setenv("AWS_SECRET_ACCESS_KEY", "fuzz-secret")
	f.Setenv("AWS_PROFILE", "")
	plan := "k\te\t6\t2024-01-01 00:00:00\t\\N\t\\N\tsrc\tdst\t"
	for _, s := range []string{
		"",
		plan + "\\N\t\\N\t\\N\t0\t6\tetag\tcopy\t\\N\tok\te\t\\N\t\\N\t\\N\t\\N\tetag\n",
		plan + "\\N\t\\N\t\\N\t0\t6\tetag\tcopy\t\\N\tfailed\t\\N\t\\N\tNoSuchKey\t404\tgone\t\\N\n",
		plan + "\\N\t\\N\t\\N\t0\t6\tetag\tskip\tsame\tskipped\t\\N\t\\N\t\\N\t\\N\tsame\t\\N\n",
		plan + "up\t1\t2\t0\t5\tetag\tpart\t\\N\tok\tp1\t\\N\t\\N\t\\N\t\\N\tcontent-md5\n" +
			plan + "up\t2\t2\t5\t1\tetag\tpart\t\\N\tok\tp2\t\\N\t\\N\t\\N\t\\N\tcontent-md5\n",
		plan + "up\t1\t2\t0\t5\tetag\tpart\t\\N\tok\tp1\t\\N\t\\N\t\\N\t\\N\tcontent-md5\n" + "k\\q\n",
		"a\tb\n", "\\N\n", "\r\n", "k\xff\t\\N",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c := CLI{Dst: s3client.Side{EndpointURL: fake.URL, Region: "us-east-1", PathStyle: "true"},
			Tuning: s3client.Tuning{Concurrency: 4, MaxAttempts: 1, RetryMode: "standard", HTTPTimeout: 5 * time.Second}}
		c.Quiet = true
		var out, errb bytes.Buffer
		sio := &stream.IO{Stdin: bytes.NewReader(in), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		err := run(context.Background(), &c, sio)
		lastGood := int64(-1) // every line may have produced a row
		var pe *tsv.ParseError
		switch {
		case err == nil, errors.Is(err, stream.ErrSomeFailed):
		case errors.As(err, &pe):
			if pe.Line < 1 {
				t.Fatalf("input error without a line: %v", err)
			}
			lastGood = pe.Line - 1
		default:
			var ie *stream.InputError
			if errors.As(err, &ie) {
				t.Fatalf("input error without a line: %v", err)
			}
			// A per-request failure of the fake S3 can only stop the run
			// when it is fatal; it is not an input error.
		}
		keys := inputKeys(in, lastGood)
		checkReport(t, out.Bytes(), keys)
	})
}

// inputKeys are the keys of the input lines that parse as result rows, up
// to line last (-1: all).
func inputKeys(in []byte, last int64) map[string]bool {
	keys := map[string]bool{}
	r := tsv.NewReader(bytes.NewReader(in))
	for last < 0 || r.Line() < last {
		f, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, tsv.ErrLineTooLong) {
				continue
			}
			break
		}
		var res record.Result
		if record.ParseResult(f, &res) == nil {
			keys[res.Key] = true
		}
	}
	return keys
}

// checkReport fails unless out is complete report rows for keys.
func checkReport(t *testing.T, out []byte, keys map[string]bool) {
	t.Helper()
	if len(out) > 0 && out[len(out)-1] != '\n' {
		t.Fatalf("report ends in a partial line: %q", out)
	}
	r := tsv.NewReader(bytes.NewReader(out))
	for {
		f, err := r.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("report is not report rows: %v\n%q", err, out)
		}
		var rep record.Report
		if err := record.ParseReport(f, &rep); err != nil {
			t.Fatalf("report is not report rows: %v\n%q", record.AtLine(r, err), out)
		}
		if !keys[rep.Key] {
			t.Fatalf("report row for %q, which no input line before the error holds", rep.Key)
		}
	}
}
