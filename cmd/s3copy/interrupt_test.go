package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// hangingS3 is a fake S3 endpoint: GETs of keys under fast/ answer at once,
// GETs of keys under slow/ never answer (until the client goes away), PUTs
// store nothing and answer the body's MD5 as ETag.
type hangingS3 struct {
	srv     *httptest.Server
	hanging atomic.Int32 // slow GETs waiting
	puts    atomic.Int32
}

const body = "0123456789abcdef"

var bodyETag = func() string { s := md5.Sum([]byte(body)); return hex.EncodeToString(s[:]) }()

func newHangingS3(t *testing.T) *hangingS3 {
	h := &hangingS3{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/slow/"):
			h.hanging.Add(1)
			<-r.Context().Done()
		case r.Method == http.MethodGet:
			w.Header().Set("ETag", `"`+bodyETag+`"`)
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			io.WriteString(w, body)
		case r.Method == http.MethodPut:
			b, _ := io.ReadAll(r.Body)
			s := md5.Sum(b)
			h.puts.Add(1)
			w.Header().Set("ETag", `"`+hex.EncodeToString(s[:])+`"`)
		default:
			http.Error(w, "unexpected", http.StatusNotImplemented)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// planRows: nFast rows that copy at once, then nSlow rows that hang.
func planRows(nFast, nSlow int) string {
	var b bytes.Buffer
	w := tsv.NewWriter(&b)
	for i := range nFast + nSlow {
		key := fmt.Sprintf("fast/%d", i)
		if i >= nFast {
			key = fmt.Sprintf("slow/%d", i)
		}
		p := record.Plan{Key: key, ETag: bodyETag, Size: int64(len(body)), SrcBucket: "src", DstBucket: "dst",
			Length: int64(len(body)), Verify: record.VerifyETag, Action: record.ActionCopy}
		p.Write(w)
	}
	w.Flush()
	return b.String()
}

// checkInterrupted reads s3copy's output: every fast row copied, every
// in-flight slow row failed with Interrupted, no row twice.
func checkInterrupted(t *testing.T, out []byte, nFast, workers int) {
	t.Helper()
	r := tsv.NewReader(bytes.NewReader(out))
	ok, interrupted := 0, 0
	seen := map[string]bool{}
	for {
		f, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("output line %d: %v", r.Line(), err)
		}
		var x record.Result
		if err := record.ParseResult(f, &x); err != nil {
			t.Fatalf("output line %d: %v", r.Line(), err)
		}
		if seen[x.Key] {
			t.Errorf("row for %s twice", x.Key)
		}
		seen[x.Key] = true
		switch {
		case strings.HasPrefix(x.Key, "fast/") && x.Status == record.StatusOK && x.DstETag == bodyETag:
			ok++
		case strings.HasPrefix(x.Key, "slow/") && x.Status == record.StatusFailed && x.ErrorCode == "Interrupted":
			interrupted++
		default:
			t.Errorf("unexpected row %+v", x)
		}
	}
	// The workers' in-flight copies, plus at most one row already read and
	// waiting for a worker.
	if ok != nFast || interrupted < workers || interrupted > workers+1 {
		t.Errorf("%d ok rows (want %d), %d interrupted rows (want %d or %d)", ok, nFast, interrupted, workers, workers+1)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fakeCreds(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "fake")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_PROFILE", "")
}

// syncBuffer is a bytes.Buffer safe to read while run writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// TestInterruptInProcess cancels run's context (what SIGINT does through
// cli.Main) while copies hang: done rows and the in-flight rows (failed,
// Interrupted) are written and flushed, and the exit code is 130.
func TestInterruptInProcess(t *testing.T) {
	fakeCreds(t)
	fake := newHangingS3(t)
	const nFast, nSlow, workers = 3, 10, 4
	side := s3client.Side{EndpointURL: fake.srv.URL, Region: "us-east-1", PathStyle: "true"}
	c := &CLI{Src: side, Dst: side, Mode: "stream",
		Tuning: s3client.Tuning{Concurrency: workers, MaxAttempts: 1, RetryMode: "standard", HTTPTimeout: time.Minute}}
	c.Quiet = true
	var stdout, stderr syncBuffer
	sio := &stream.IO{Stdin: strings.NewReader(planRows(nFast, nSlow)), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, c, sio) }()
	waitFor(t, "the slow GETs", func() bool { return fake.hanging.Load() == workers && fake.puts.Load() == nFast })
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if code, msg := stream.ExitCode(err); code != stream.ExitInterrupted || !strings.Contains(msg, "interrupted") {
		t.Errorf("exit %d %q, want %d", code, msg, stream.ExitInterrupted)
	}
	checkInterrupted(t, stdout.Bytes(), nFast, workers)
}

// TestInterruptBinary sends a real SIGINT to the built s3copy.
func TestInterruptBinary(t *testing.T) {
	bin := s3copyBinary(t)
	fake := newHangingS3(t)
	const nFast, nSlow, workers = 3, 10, 4
	cmd := exec.Command(bin, "--mode=stream", "--concurrency", fmt.Sprint(workers), "--max-attempts=1",
		"--src-endpoint-url", fake.srv.URL, "--dst-endpoint-url", fake.srv.URL, "--src-region=us-east-1", "--dst-region=us-east-1")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=fake", "AWS_SECRET_ACCESS_KEY=fake", "AWS_PROFILE=",
		"AWS_CONFIG_FILE="+filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(t.TempDir(), "none"),
		"S3PIPE_SRC_PROFILE=", "S3PIPE_DST_PROFILE=")
	cmd.Stdin = strings.NewReader(planRows(nFast, nSlow))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitFor(t, "the slow GETs", func() bool { return fake.hanging.Load() == workers && fake.puts.Load() == nFast })
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("s3copy did not exit after SIGINT; stderr:\n%s", stderr.String())
	}
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if code := cmd.ProcessState.ExitCode(); code != stream.ExitInterrupted || ws.Signaled() {
		t.Errorf("exit code %d (signaled %v), want %d; stderr:\n%s", code, ws.Signaled(), stream.ExitInterrupted, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say interrupted:\n%s", stderr.String())
	}
	checkInterrupted(t, stdout.Bytes(), nFast, workers)
}

// s3copyBinary is $S3PIPE_BIN/s3copy (make test builds it), else a fresh
// build of this package.
func s3copyBinary(t *testing.T) string {
	if dir := os.Getenv("S3PIPE_BIN"); dir != "" {
		bin := filepath.Join(dir, "s3copy")
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("S3PIPE_BIN=%s: %v", dir, err)
		}
		return bin
	}
	if testing.Short() {
		t.Skip("-short and no S3PIPE_BIN: not building s3copy")
	}
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(t.TempDir(), "s3copy")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Dir(file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
