package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3pipe/s3pipe/lib/faultproxy"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/s3test"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// seed puts n small objects and returns their plan rows (copy rows, as
// s3mpplan writes them for single-part objects).
func seed(t *testing.T, c *s3.Client, srcB, dstB string, n int) string {
	t.Helper()
	rows := make([]record.Plan, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			key := fmt.Sprintf("obj/%04d", i)
			body := s3test.RandomBytes(int64(100+i), uint64(i))
			out := s3test.Put(t, c, srcB, key, body)
			etag := strings.Trim(aws.ToString(out.ETag), `"`)
			rows[i] = record.Plan{Key: key, ETag: etag, Size: int64(len(body)), SrcBucket: srcB, DstBucket: dstB,
				Length: int64(len(body)), Verify: record.VerifyETag, Action: record.ActionCopy}
		})
	}
	wg.Wait()
	var b bytes.Buffer
	w := tsv.NewWriter(&b)
	for i := range rows {
		rows[i].Write(w)
	}
	w.Flush()
	return b.String()
}

func readResults(t *testing.T, out []byte) []record.Result {
	t.Helper()
	rs, err := record.ReadAll(bytes.NewReader(out), record.ParseResult)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestThrottledRun: behind a proxy that answers SlowDown above R requests
// a second, s3copy with 32 workers fails no object and its request rate
// settles below R (the shared limiter halves on SlowDown), instead of
// hammering the proxy with retries.
func TestThrottledRun(t *testing.T) {
	const objects, workers, threshold = 300, 32, 100.0
	a := s3test.A(t)
	srcB, dstB := a.Bucket(t, false), a.Bucket(t, false)
	plans := seed(t, a.Client(t), srcB, dstB, objects)

	target, err := url.Parse(a.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.New(target, faultproxy.Config{Throttle: faultproxy.Throttle{Rate: threshold}})
	defer p.Close()
	side := a.Side()
	side.EndpointURL = p.URL()
	c := &CLI{Src: side, Dst: side, Mode: "auto",
		Tuning: s3client.Tuning{Concurrency: workers, MaxAttempts: 10, RetryMode: "standard", HTTPTimeout: time.Minute}}
	c.Quiet = true
	var stdout, stderr bytes.Buffer
	sio := &stream.IO{Stdin: strings.NewReader(plans), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	start := time.Now()
	err = run(context.Background(), c, sio)
	el := time.Since(start)
	if err != nil {
		t.Errorf("run: %v\n%s", err, stderr.String())
	}
	rs := readResults(t, stdout.Bytes())
	ok := 0
	for _, r := range rs {
		if r.Status == record.StatusOK && r.Proof == record.ProofETag {
			ok++
		} else {
			t.Errorf("%s: %s %s %s", r.Key, r.Status, r.ErrorCode, r.Message)
		}
	}
	if ok != objects {
		t.Errorf("%d of %d objects copied", ok, objects)
	}
	st := p.Stats().Throttle
	t.Logf("threshold %.0f req/s: achieved %.1f req/s (%d admitted, %d throttled in %v); %.1f objects/s",
		threshold, st.Rate, st.Admitted, st.Throttled, st.Elapsed.Round(time.Millisecond), float64(objects)/el.Seconds())
	if st.Throttled == 0 {
		t.Errorf("the proxy never throttled: the test did not test the limiter")
	}
	// The token bucket admits at most threshold + its burst over the run;
	// the limiter must keep the run near it (not collapse) and keep
	// SlowDowns a fraction of the traffic (not hammer the proxy).
	if st.Rate < 0.5*threshold || st.Rate > 1.05*threshold {
		t.Errorf("achieved %.1f req/s; want between %.0f and %.0f", st.Rate, 0.5*threshold, 1.05*threshold)
	}
	if float64(st.Throttled) > 0.25*float64(st.Admitted) {
		t.Errorf("%d SlowDowns for %d admitted requests: the limiter does not back off", st.Throttled, st.Admitted)
	}
}
