package e2e

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3pipe/s3pipe/lib/faultproxy"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
)

// faultMix splits a total fault rate over the fault types, roughly as a bad
// day on S3 looks: mostly throttling and 500s, some broken connections, a
// few slow answers and 200-with-error bodies.
func faultMix(total float64) faultproxy.Rates {
	share := faultproxy.Rates{
		faultproxy.SlowDown:            0.25,
		faultproxy.InternalError:       0.15,
		faultproxy.ResetBeforeResponse: 0.15,
		faultproxy.ResetAfterForward:   0.10,
		faultproxy.ResetMidBody:        0.10,
		faultproxy.TruncatedBody:       0.10,
		faultproxy.SlowResponse:        0.03,
		faultproxy.Error200:            0.06,
		faultproxy.Error200Unforwarded: 0.06,
	}
	if only := os.Getenv("S3PIPE_FAULT_TYPES"); only != "" {
		// A subset, for chasing one behaviour: its shares are scaled up
		// to the total.
		sum := 0.0
		for f := range share {
			if !slices.Contains(strings.Split(only, ","), string(f)) {
				delete(share, f)
			} else {
				sum += share[f]
			}
		}
		for f := range share {
			share[f] /= sum
		}
	}
	r := faultproxy.Rates{}
	for f, s := range share {
		r[f] = s * total
	}
	return r
}

// faultObjects seeds the source: n small objects (some with properties),
// a few medium ones, three multipart objects with different part layouts
// and the nasty keys. It returns every key.
func faultObjects(t *testing.T, c *s3.Client, bucket string, n int) []string {
	t.Helper()
	var keys []string
	work := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range work {
				key := fmt.Sprintf("obj/%05d", i)
				size := int64(1<<10 + (i*7919)%(63<<10)) // 1–64 KiB
				if i%40 == 0 {
					size = int64(256<<10 + (i*104729)%(2<<20)) // 256 KiB – 2.25 MiB
				}
				s3test.Put(t, c, bucket, key, s3test.RandomBytes(size, uint64(i)), func(in *s3.PutObjectInput) {
					if i%3 == 0 {
						in.ContentType = aws.String(fmt.Sprintf("text/x-fault-%d", i%7))
						in.Metadata = map[string]string{"n": fmt.Sprint(i)}
						in.CacheControl = aws.String("max-age=60")
					}
				})
			}
		})
	}
	for i := range n {
		keys = append(keys, fmt.Sprintf("obj/%05d", i))
		work <- i
	}
	close(work)
	wg.Wait()
	for _, k := range nastyKeys {
		s3test.Put(t, c, bucket, k, []byte("nasty "+k))
		keys = append(keys, k)
	}
	for i, sizes := range [][]int64{{5 * mib, 1 * mib}, {5 * mib, 5 * mib, 2 * mib}, {6 * mib, 3 * mib}} {
		k := fmt.Sprintf("mp/%d", i)
		putParts(t, c, bucket, k, uint64(1000+i), sizes...)
		keys = append(keys, k)
	}
	return keys
}

// faultRun is one chain run through the proxies and its measurements.
type faultRun struct {
	rate             float64
	mode             string
	objects          int
	stats            []faultproxy.Stats
	failed1, failed2 int
	rerun            string // "", "failed rows" or "whole chain"
	uploadsLeft      int
	elapsed          time.Duration
}

// TestFaultMatrix runs the whole chain through fault-injecting proxies at
// 1%, 5% and 20% of requests, cross-account (streamed) and on one server
// (server-side copy), then re-drives the failed rows once, and checks:
// destination equals source (ETags and properties), exactly one report row
// per object, no multipart upload left, counters that add up.
// S3PIPE_FAULT_RATES (percentages, "1,5,20"), S3PIPE_FAULT_OBJECTS and
// S3PIPE_FAULT_TYPES (a subset of the fault types) resize it.
func TestFaultMatrix(t *testing.T) {
	a, b := s3test.A(t), s3test.B(t)
	needTools(t)
	// CI size: 100 small objects (plus 8 odd keys and 3 multipart ones) at
	// 1% and 5%, a quarter of that at 20%, where s3copy's limiter halves
	// its rate on every random SlowDown and a run of 200 objects took
	// minutes (docs/RELIABILITY.md). S3PIPE_FAULT_OBJECTS=n runs n objects
	// at every rate (`make soak`).
	n, nHigh := 100, 25
	if v := os.Getenv("S3PIPE_FAULT_OBJECTS"); v != "" {
		fmt.Sscan(v, &n)
		nHigh = n
	}
	srcB := a.Bucket(t, false)
	keys := faultObjects(t, a.Client(t), srcB, n)
	srcHigh, keysHigh := srcB, keys
	if nHigh != n {
		srcHigh = a.Bucket(t, false)
		keysHigh = faultObjects(t, a.Client(t), srcHigh, nHigh)
	}
	var results []faultRun
	rates := []float64{0.01, 0.05, 0.20}
	if v := os.Getenv("S3PIPE_FAULT_RATES"); v != "" {
		rates = nil
		for _, f := range strings.Split(v, ",") {
			var r float64
			fmt.Sscan(f, &r)
			rates = append(rates, r/100)
		}
	}
	for _, rate := range rates {
		for _, mode := range []string{"stream", "server"} {
			name := fmt.Sprintf("%g%%/%s", rate*100, mode)
			t.Run(name, func(t *testing.T) {
				dst := b
				if mode == "server" {
					dst = a
				}
				src, ks := srcB, keys
				if rate >= 0.2 {
					src, ks = srcHigh, keysHigh
				}
				r := runFaultChain(t, a, dst, src, ks, rate, mode)
				results = append(results, r)
			})
		}
	}
	t.Log("fault matrix (rate | mode | objects | requests | faults injected | failed after run 1 | re-run | failed after re-run | uploads left | time):")
	for _, r := range results {
		var req, inj int64
		byType := map[faultproxy.Fault]int64{}
		for _, s := range r.stats {
			req += s.TotalRequests()
			inj += s.TotalFaults()
			for f := range s.Faults {
				byType[f] += s.Injected(f)
			}
		}
		var parts []string
		for _, f := range slices.Sorted(maps.Keys(byType)) {
			parts = append(parts, fmt.Sprintf("%s %d", f, byType[f]))
		}
		t.Logf("| %g%% | %s | %d | %d | %d (%s) | %d | %s | %d | %d | %.1fs |", r.rate*100, r.mode, r.objects, req, inj,
			strings.Join(parts, ", "), r.failed1, r.rerun, r.failed2, r.uploadsLeft, r.elapsed.Seconds())
	}
}

func runFaultChain(t *testing.T, src, dst *s3test.Server, srcB string, keys []string, rate float64, mode string) faultRun {
	start := time.Now()
	res := faultRun{rate: rate, mode: mode, objects: len(keys)}
	e := &env{t: t, dir: t.TempDir(), src: src, dst: dst, srcB: srcB, dstB: dst.Bucket(t, false)}
	cfg := faultproxy.Config{Seed: uint64(rate * 1000), Rates: faultMix(rate), SlowDelay: 3 * time.Second,
		ResetReadBytes: 32 << 10}
	newProxy := func(s *s3test.Server) *faultproxy.Proxy {
		u, err := url.Parse(s.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		p := faultproxy.New(u, cfg)
		t.Cleanup(p.Close)
		return p
	}
	pSrc := newProxy(src)
	pDst := pSrc
	if dst != src {
		// Two servers, two proxies. On one server both sides share one
		// proxy, so the tools see one endpoint and copy server-side.
		pDst = newProxy(dst)
	}
	proxyEnv := []string{"S3PIPE_SRC_ENDPOINT_URL=" + pSrc.URL(), "S3PIPE_DST_ENDPOINT_URL=" + pDst.URL(),
		"S3PIPE_HTTP_TIMEOUT=1s", "AWS_MAX_ATTEMPTS=10"}
	cmd := func(tool string, args ...string) *exec.Cmd {
		c := e.cmd(tool, args...)
		c.Env = append(c.Env, proxyEnv...)
		return c
	}
	listDst := func() *exec.Cmd {
		c := cmd("s3list", "--bucket", e.dstB)
		c.Env = append(c.Env, sideEnv("SRC", dst)...)
		c.Env = append(c.Env, "S3PIPE_SRC_ENDPOINT_URL="+pDst.URL())
		return c
	}
	chain := func(tag string) ([]*stage, map[string][]record.Report) {
		t0 := time.Now()
		dstList := e.path(tag + ".dst.tsv")
		st := e.pipeline("", dstList, listDst())
		t1 := time.Now()
		plan := e.path(tag + ".plan.tsv")
		st = append(st, e.pipeline("", plan, cmd("s3list", "--bucket", e.srcB), cmd("s3diff", "--dst", dstList),
			cmd("s3mpplan", "--dst-bucket", e.dstB))...)
		t2 := time.Now()
		report := e.path(tag + ".report.tsv")
		st = append(st, e.pipeline(plan, report, cmd("s3copy", "--mode", mode), cmd("s3mpdone"))...)
		t.Logf("%s: list destination %.1fs, list|diff|plan %.1fs, copy|done %.1fs; s3copy counters %v", tag,
			t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds(), time.Since(t2).Seconds(), st[len(st)-2].counters())
		return st, readReport(t, report)
	}
	fatal := func(st []*stage) string {
		var bad []string
		for _, s := range st {
			if c := s.exitCode(); c != 0 && c != 1 {
				bad = append(bad, fmt.Sprintf("%s exited %d: %s", s.name(), c, lastLines(s.stderr.String(), 5)))
			}
		}
		return strings.Join(bad, "\n")
	}

	st1, rep1 := chain("run1")
	done1 := st1[len(st1)-1]
	var failedKeys []string
	for k, rows := range rep1 {
		for _, r := range rows {
			if r.Status == record.OutcomeFailed {
				failedKeys = append(failedKeys, k)
				t.Logf("run 1 failed %q: %s %d %s", k, r.ErrorCode, r.HTTPStatus, r.Message)
			}
		}
	}
	res.failed1 = len(failedKeys)
	final := map[string][]record.Report{}
	if bad := fatal(st1); bad != "" {
		// A stage gave up (a fatal error): run the whole chain again.
		t.Logf("run 1: %s", bad)
		res.failed1 = len(keys) - countStatus(rep1, record.OutcomeCopied)
		res.rerun = "whole chain"
		st2, rep2 := chain("run2")
		if bad := fatal(st2); bad != "" {
			t.Errorf("re-run: %s", bad)
		}
		mergeReports(final, rep1, rep2)
	} else {
		// Every object has its row: check run 1's report and counters.
		checkRowsOnce(t, "run 1", rep1, keys)
		cnt := done1.counters()
		if cnt["copied"]+cnt["skipped"]+cnt["failed"] != int64(len(keys)) || cnt["objects"] != int64(len(keys)) {
			t.Errorf("run 1 s3mpdone counters %v do not add up to %d objects", cnt, len(keys))
		}
		if cnt["failed"] != int64(res.failed1) {
			t.Errorf("run 1: failed counter %d, %d failed rows", cnt["failed"], res.failed1)
		}
		if plan := st1[3].counters(); plan["objects"] != int64(len(keys)) {
			t.Errorf("run 1: s3mpplan counters %v, want %d objects", plan, len(keys))
		}
		if rows, lines := st1[4].counters()["rows"], countLines(t, e.path("run1.plan.tsv")); rows != int64(lines) {
			t.Errorf("run 1: s3copy read %d rows of a %d-row plan", rows, lines)
		}
		final = rep1
		if len(failedKeys) > 0 {
			res.rerun = "failed rows"
			failed := e.path("failed.tsv")
			filterReport(t, e.path("run1.report.tsv"), failed, record.OutcomeFailed)
			st2 := e.pipeline(failed, e.path("run2.report.tsv"), cmd("s3mpplan", "--dst-bucket", e.dstB),
				cmd("s3copy", "--mode", mode), cmd("s3mpdone"))
			if bad := fatal(st2); bad != "" {
				t.Errorf("re-drive: %s", bad)
			}
			rep2 := readReport(t, e.path("run2.report.tsv"))
			checkRowsOnce(t, "re-drive", rep2, failedKeys)
			final = map[string][]record.Report{}
			mergeReports(final, rep1, rep2)
		}
	}
	for _, k := range keys {
		if rows := final[k]; len(rows) != 1 || rows[0].Status != record.OutcomeCopied {
			res.failed2++
			if len(rows) > 0 {
				t.Errorf("key %q after the re-run: %s %s %s", k, rows[0].Status, rows[0].ErrorCode, rows[0].Message)
			} else {
				t.Errorf("key %q: no report row", k)
			}
		}
	}
	ups, err := dst.Client(t).ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &e.dstB})
	if err != nil {
		t.Fatal(err)
	}
	res.uploadsLeft = len(ups.Uploads)
	for _, u := range ups.Uploads {
		// An upload whose CreateMultipartUpload response was lost (reset
		// after the server acted, or cut short) and that the SDK retried.
		t.Errorf("multipart upload left at the destination: %q %s", aws.ToString(u.Key), aws.ToString(u.UploadId))
	}
	sameObjects(t, src.Client(t), srcB, dst.Client(t), e.dstB, keys)
	res.stats = []faultproxy.Stats{pSrc.Stats()}
	if pDst != pSrc {
		res.stats = append(res.stats, pDst.Stats())
	}
	var injected int64
	for _, s := range res.stats {
		injected += s.TotalFaults()
		t.Logf("proxy:\n%s", s)
	}
	if rate >= 0.05 && injected == 0 {
		t.Errorf("no fault injected at %g%%", rate*100)
	}
	res.elapsed = time.Since(start)
	return res
}

func countStatus(rep map[string][]record.Report, status string) int {
	n := 0
	for _, rows := range rep {
		for _, r := range rows {
			if r.Status == status {
				n++
			}
		}
	}
	return n
}

// mergeReports keeps, per key, the later report's row when it has one.
func mergeReports(dst map[string][]record.Report, reps ...map[string][]record.Report) {
	for _, rep := range reps {
		for k, rows := range rep {
			dst[k] = rows
		}
	}
}

// checkRowsOnce fails unless rep has exactly one row for each key and no
// other rows.
func checkRowsOnce(t *testing.T, what string, rep map[string][]record.Report, keys []string) {
	t.Helper()
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
		if n := len(rep[k]); n != 1 {
			t.Errorf("%s: key %q has %d report rows, want 1", what, k, n)
		}
	}
	for k := range rep {
		if !want[k] {
			t.Errorf("%s: unexpected report row for %q", what, k)
		}
	}
}

// sameObjects compares every key's ETag, size and properties at source and
// destination (directly, not through a proxy), and that the destination
// holds nothing else.
func sameObjects(t *testing.T, sc *s3.Client, srcB string, dc *s3.Client, dstB string, keys []string) {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var diffs []string
	work := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for k := range work {
				s, err1 := sc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &srcB, Key: aws.String(k)})
				d, err2 := dc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &dstB, Key: aws.String(k)})
				var diff string
				switch {
				case err1 != nil || err2 != nil:
					diff = fmt.Sprintf("source %v, destination %v", err1, err2)
				case aws.ToString(s.ETag) != aws.ToString(d.ETag):
					diff = fmt.Sprintf("ETag %s, source %s", aws.ToString(d.ETag), aws.ToString(s.ETag))
				case aws.ToInt64(s.ContentLength) != aws.ToInt64(d.ContentLength):
					diff = fmt.Sprintf("size %d, source %d", aws.ToInt64(d.ContentLength), aws.ToInt64(s.ContentLength))
				case aws.ToString(s.ContentType) != aws.ToString(d.ContentType) || aws.ToString(s.CacheControl) != aws.ToString(d.CacheControl) ||
					!maps.Equal(s.Metadata, d.Metadata):
					diff = fmt.Sprintf("properties %q %q %v, source %q %q %v", aws.ToString(d.ContentType), aws.ToString(d.CacheControl), d.Metadata,
						aws.ToString(s.ContentType), aws.ToString(s.CacheControl), s.Metadata)
				}
				if diff != "" {
					mu.Lock()
					diffs = append(diffs, fmt.Sprintf("%q: %s", k, diff))
					mu.Unlock()
				}
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	slices.Sort(diffs)
	for i, d := range diffs {
		if i == 10 {
			t.Errorf("... and %d more differences", len(diffs)-10)
			break
		}
		t.Errorf("destination differs: %s", d)
	}
	if n := len(listing(t, dc, dstB)); n != len(keys) {
		t.Errorf("destination holds %d objects, want %d", n, len(keys))
	}
}

// TestThrottleSettles copies through a proxy that answers SlowDown above a
// request rate at the destination and measures the rate s3copy settles at:
// every object must still be copied (shared back-off, not failed objects).
func TestThrottleSettles(t *testing.T) {
	a, b := s3test.A(t), s3test.B(t)
	needTools(t)
	const threshold = 40.0
	e := &env{t: t, dir: t.TempDir(), src: a, dst: b, srcB: a.Bucket(t, false), dstB: b.Bucket(t, false)}
	var keys []string
	for i := range 200 {
		k := fmt.Sprintf("t/%04d", i)
		keys = append(keys, k)
	}
	var wg sync.WaitGroup
	work := make(chan string)
	sc := a.Client(t)
	for range 8 {
		wg.Go(func() {
			for k := range work {
				s3test.Put(t, sc, e.srcB, k, []byte("throttled "+k))
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	dstList := e.path("dst.tsv")
	e.mustOK(e.pipeline("", dstList, e.listDstCmd("--bucket", e.dstB)))
	plan := e.path("plan.tsv")
	e.mustOK(e.pipeline("", plan, e.cmd("s3list", "--bucket", e.srcB), e.cmd("s3diff", "--dst", dstList),
		e.cmd("s3mpplan", "--dst-bucket", e.dstB)))

	u, err := url.Parse(b.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.New(u, faultproxy.Config{Throttle: faultproxy.Throttle{Rate: threshold, Burst: 4}})
	defer p.Close()
	withProxy := func(c *exec.Cmd) *exec.Cmd {
		c.Env = append(c.Env, "S3PIPE_DST_ENDPOINT_URL="+p.URL())
		return c
	}
	start := time.Now()
	st := e.pipeline(plan, e.path("report.tsv"), withProxy(e.cmd("s3copy", "--mode", "stream")), withProxy(e.cmd("s3mpdone")))
	elapsed := time.Since(start)
	e.mustOK(st)
	checkOneRowEach(t, readReport(t, e.path("report.tsv")), statusAll(keys, record.OutcomeCopied))
	th := p.Stats().Throttle
	t.Logf("threshold %.0f req/s: %d objects in %.1fs; proxy admitted %d, throttled %d (%.0f%%), achieved %.1f req/s (%.0f%% of the threshold); s3copy counters %v",
		threshold, len(keys), elapsed.Seconds(), th.Admitted, th.Throttled, 100*float64(th.Throttled)/float64(th.Admitted+th.Throttled),
		th.Rate, 100*th.Rate/threshold, st[0].counters())
	if th.Rate > 1.2*threshold {
		t.Errorf("achieved %.1f req/s through a %.0f req/s throttle: the proxy's bucket leaks", th.Rate, threshold)
	}
}
