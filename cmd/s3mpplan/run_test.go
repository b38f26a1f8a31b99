package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
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

// readOnly are the operations a dry run may make: GETs and HEADs.
var readOnly = map[faultproxy.Op]bool{faultproxy.HeadObject: true, faultproxy.GetObject: true, faultproxy.GetObjectTagging: true,
	faultproxy.HeadBucket: true, faultproxy.ListParts: true, faultproxy.ListObjectsV2: true, faultproxy.GetBucketLocation: true}

// objectRows writes object rows (as s3list does) for keys in bucket.
func objectRows(t *testing.T, c *s3.Client, bucket string, keys ...string) string {
	t.Helper()
	var b bytes.Buffer
	w := tsv.NewWriter(&b)
	for _, k := range keys {
		h, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &k})
		if err != nil {
			t.Fatal(err)
		}
		o := record.Object{Bucket: bucket, Key: k, ETag: strings.Trim(aws.ToString(h.ETag), `"`), Size: aws.ToInt64(h.ContentLength), MTime: aws.ToTime(h.LastModified)}
		o.Write(w)
	}
	w.Flush()
	return b.String()
}

// planThrough runs s3mpplan in-process with both sides behind p.
func planThrough(t *testing.T, a *s3test.Server, p *faultproxy.Proxy, in, dstB string, edit func(*CLI)) ([]record.Plan, error) {
	t.Helper()
	side := a.Side()
	side.EndpointURL = p.URL()
	c := &CLI{Src: side, Dst: side, DstBucket: dstB,
		Tuning: s3client.Tuning{Concurrency: 8, MaxAttempts: 3, RetryMode: "standard", HTTPTimeout: time.Minute}}
	c.Quiet = true
	if edit != nil {
		edit(c)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), c, &stream.IO{Stdin: strings.NewReader(in), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	r := tsv.NewReader(&stdout)
	var ps []record.Plan
	for {
		f, rerr := r.Read()
		if rerr == io.EOF {
			return ps, err
		}
		if rerr != nil {
			t.Fatal(rerr)
		}
		var x record.Plan
		if perr := record.ParsePlan(f, &x); perr != nil {
			t.Fatal(perr)
		}
		ps = append(ps, x)
	}
}

func ops(st faultproxy.Stats) string {
	var s []string
	for op, n := range st.Requests {
		s = append(s, fmt.Sprintf("%s=%d", op, n))
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

// TestDryRunReadsOnly: --dry-run plans multipart objects (part rows with
// upload id dry-run) making only GET/HEAD requests; the same plan without
// it creates uploads — which proves the counting sees them.
func TestDryRunReadsOnly(t *testing.T) {
	a := s3test.A(t)
	c := a.Client(t)
	srcB, dstB := a.Bucket(t, false), a.Bucket(t, false)
	s3test.PutMultipart(t, c, srcB, "multi", []int64{5 * s3test.MiB, 10}, func(in *s3.CreateMultipartUploadInput) { in.Tagging = aws.String("a=1") })
	s3test.PutMultipart(t, c, srcB, "one-part", []int64{100})
	s3test.Put(t, c, srcB, "single", []byte("x"))
	in := objectRows(t, c, srcB, "multi", "one-part", "single")
	target, _ := url.Parse(a.Endpoint)

	p := faultproxy.New(target, faultproxy.Config{})
	defer p.Close()
	plans, err := planThrough(t, a, p, in, dstB, func(c *CLI) { c.DryRun = true; c.ExactLayout = true })
	if err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	for op, n := range st.Requests {
		if !readOnly[op] && n > 0 {
			t.Errorf("--dry-run made %d %s requests", n, op)
		}
	}
	if st.Requests[faultproxy.HeadObject] == 0 {
		t.Errorf("no HEADs seen (%s): the proxy did not see the planning", ops(st))
	}
	t.Logf("dry run requests: %s", ops(st))
	parts := 0
	for _, pl := range plans {
		if pl.Action == record.ActionPart {
			parts++
			if pl.UploadID != "dry-run" {
				t.Errorf("%s part %d: upload id %q", pl.Key, pl.PartNumber, pl.UploadID)
			}
		}
	}
	if parts != 3 || len(plans) != 4 {
		t.Errorf("%d plan rows with %d part rows, want 4 and 3: %+v", len(plans), parts, plans)
	}
	ups, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &dstB})
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("uploads in the destination after a dry run: %v %v", ups, err)
	}

	// Without --dry-run the same input creates the uploads.
	p2 := faultproxy.New(target, faultproxy.Config{})
	defer p2.Close()
	if _, err := planThrough(t, a, p2, in, dstB, nil); err != nil {
		t.Fatal(err)
	}
	if n := p2.Stats().Requests[faultproxy.CreateMultipartUpload]; n != 2 {
		t.Errorf("without --dry-run: %d CreateMultipartUpload, want 2 (%s)", n, ops(p2.Stats()))
	}
}

// TestMaxRPS: --max-rps paces the planning's requests over all workers.
func TestMaxRPS(t *testing.T) {
	const objects, rps = 20, 25.0
	a := s3test.A(t)
	c := a.Client(t)
	srcB, dstB := a.Bucket(t, false), a.Bucket(t, false)
	var keys []string
	for i := range objects {
		k := fmt.Sprintf("p/%02d", i)
		s3test.PutMultipart(t, c, srcB, k, []int64{int64(10 + i)})
		keys = append(keys, k)
	}
	in := objectRows(t, c, srcB, keys...)
	target, _ := url.Parse(a.Endpoint)
	p := faultproxy.New(target, faultproxy.Config{})
	defer p.Close()
	start := time.Now()
	plans, err := planThrough(t, a, p, in, dstB, func(c *CLI) { c.MaxRPS = rps; c.DryRun = true })
	el := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != objects {
		t.Fatalf("%d plan rows", len(plans))
	}
	n := p.Stats().TotalRequests()
	achieved := float64(n) / el.Seconds()
	t.Logf("--max-rps %.0f: %d requests in %v = %.1f req/s", rps, n, el.Round(time.Millisecond), achieved)
	// The first request goes at once, so n requests need (n-1)/rps.
	if min := time.Duration(float64(n-1) / rps * float64(time.Second)); el < min || n < objects {
		t.Errorf("%d requests in %v: faster than --max-rps %.0f allows (%v)", n, el, rps, min)
	}
}
