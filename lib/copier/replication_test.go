package copier_test

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/s3pipe/s3pipe/lib/complete"
	"github.com/s3pipe/s3pipe/lib/copier"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/dests"
	"github.com/s3pipe/s3pipe/lib/planner"
	"github.com/s3pipe/s3pipe/lib/props"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/s3test"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// replObject is a source object of the replication tests, with every
// property a copy must keep.
type replObject struct {
	key   string
	size  int64
	parts []int64 // multipart layout; nil = PutObject
	kms   bool
}

var replObjects = []replObject{
	{key: "single small", size: 10 << 10},
	{key: "single big+tee", size: 2*MiB + 17},
	{key: "single/kms", size: 3000, kms: true},
	{key: "multi/part", parts: []int64{5 * MiB, 1*MiB + 3}},
}

func seedRepl(t *testing.T, c *s3.Client, bucket string) {
	t.Helper()
	for i, o := range replObjects {
		put := func(ct, cc, cd *string, md map[string]string, tag *string, sse *types.ServerSideEncryption, kms *string) {
			*ct, *cc, *cd = "text/x-"+o.key[:5], "max-age=7", `attachment; filename="f.txt"`
			_ = md
			*tag = "team=blue&n=" + string(rune('0'+i))
			if o.kms {
				*sse, *kms = types.ServerSideEncryptionAwsKms, "s3pipe-key"
			}
		}
		md := map[string]string{"origin": "seed", "idx": string(rune('a' + i))}
		if o.parts == nil {
			s3test.Put(t, c, bucket, o.key, s3test.RandomBytes(o.size, uint64(i+1)), func(in *s3.PutObjectInput) {
				var ct, cc, cd, tag, kms string
				var sse types.ServerSideEncryption
				put(&ct, &cc, &cd, md, &tag, &sse, &kms)
				in.ContentType, in.CacheControl, in.ContentDisposition, in.Metadata, in.Tagging = &ct, &cc, &cd, md, &tag
				in.ServerSideEncryption, in.SSEKMSKeyId = sse, opt(kms)
				in.ContentLanguage = aws.String("de")
			})
			continue
		}
		s3test.PutMultipart(t, c, bucket, o.key, o.parts, func(in *s3.CreateMultipartUploadInput) {
			var ct, cc, cd, tag, kms string
			var sse types.ServerSideEncryption
			put(&ct, &cc, &cd, md, &tag, &sse, &kms)
			in.ContentType, in.CacheControl, in.ContentDisposition, in.Metadata, in.Tagging = &ct, &cc, &cd, md, &tag
			in.ServerSideEncryption, in.SSEKMSKeyId = sse, opt(kms)
			in.ContentLanguage = aws.String("de")
		})
	}
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// listed returns the object record of each key, as s3list would.
func listed(t *testing.T, c *s3.Client, bucket string) []record.Object {
	t.Helper()
	var objs []record.Object
	for _, o := range replObjects {
		h, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(o.key)})
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, record.Object{Key: o.key, ETag: strings.Trim(aws.ToString(h.ETag), `"`), Size: aws.ToInt64(h.ContentLength),
			MTime: aws.ToTime(h.LastModified), VersionID: aws.ToString(h.VersionId), Bucket: bucket})
	}
	return objs
}

// view is what must be equal between a source and a copy.
type view struct {
	ETag, Type, Cache, Disp, Lang, SSE, KMS, Class string
	Size                                           int64
	Meta                                           map[string]string
	Tags                                           string
}

func viewOf(t *testing.T, c *s3.Client, bucket, key, version string) view {
	t.Helper()
	ctx := context.Background()
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key, VersionId: opt(version)})
	if err != nil {
		t.Fatalf("head s3://%s/%s: %v", bucket, key, err)
	}
	tg, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &bucket, Key: &key, VersionId: opt(version)})
	if err != nil {
		t.Fatal(err)
	}
	v := view{ETag: aws.ToString(h.ETag), Type: aws.ToString(h.ContentType), Cache: aws.ToString(h.CacheControl),
		Disp: aws.ToString(h.ContentDisposition), Lang: aws.ToString(h.ContentLanguage), SSE: string(h.ServerSideEncryption),
		KMS: aws.ToString(h.SSEKMSKeyId), Class: string(h.StorageClass), Size: aws.ToInt64(h.ContentLength),
		Meta: h.Metadata, Tags: props.FormatTags(tg.TagSet)}
	return v
}

func (v view) String() string {
	var b strings.Builder
	b.WriteString(strings.Join([]string{v.ETag, v.Type, v.Cache, v.Disp, v.Lang, v.SSE, v.KMS, v.Class, v.Tags}, "|"))
	for _, k := range sortedKeys(v.Meta) {
		b.WriteString("|" + k + "=" + v.Meta[k])
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// chain plans objs with pl, copies the rows with rt (RunGroups), completes
// with api, and returns the plan rows, result rows and report rows.
func chain(t *testing.T, pl *planner.Planner, objs []record.Object, reports []record.Report, rt *copier.Router, api complete.API) ([]record.Plan, []record.Result, []record.Report) {
	t.Helper()
	ctx := context.Background()
	var plans []record.Plan
	var in bytes.Buffer
	w := tsv.NewWriter(&in)
	inputs := make([]planner.Input, 0, len(objs)+len(reports))
	for _, o := range objs {
		inputs = append(inputs, planner.Input{Obj: o})
	}
	for i := range reports {
		inputs = append(inputs, planner.Input{Obj: reports[i].Object(), Report: &reports[i]})
	}
	for i := range inputs {
		rows, err := pl.PlanDests(ctx, &inputs[i])
		if err != nil {
			t.Fatal(err)
		}
		for j := range rows {
			rows[j].Write(w)
		}
		plans = append(plans, rows...)
	}
	w.Flush()
	var out bytes.Buffer
	err := copier.RunGroups(ctx, rt, tsv.NewReader(&in), &out, 4)
	var results []record.Result
	r := tsv.NewReader(&out)
	for {
		f, rerr := r.Read()
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			t.Fatal(rerr)
		}
		var x record.Result
		if perr := record.ParseResult(f, &x); perr != nil {
			t.Fatal(perr)
		}
		results = append(results, x)
	}
	if len(results) != len(plans) {
		t.Fatalf("%d result rows for %d plan rows (run error %v)", len(results), len(plans), err)
	}
	var reps []record.Report
	comp := complete.New(ctx, api, complete.Options{Concurrency: 4}, complete.NewCounters(),
		func(r *record.Report) error { reps = append(reps, *r); return nil })
	for i := range results {
		if err := comp.Add(&results[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := comp.Finish(); err != nil {
		t.Fatal(err)
	}
	return plans, results, reps
}

func newPlanner(src planner.SrcAPI, dst planner.DstAPI, dstBucket string) *planner.Planner {
	return &planner.Planner{Src: src, Dst: dst, DstBucket: dstBucket, HeadConc: 4, Set: counters.New("s3mpplan", planner.CounterNames...)}
}

// TestInPlaceVersioned copies every object of a versioned bucket onto
// itself: each key gets a new latest version with every header and tag of
// the old one plus the marker, the report names that version, and the old
// version stays. s3copy runs in stream mode: in-place rows are server-side
// all the same.
func TestInPlaceVersioned(t *testing.T) {
	a := s3test.A(t)
	ctx := context.Background()
	cl, err := s3client.New(ctx, a.Side(), s3test.Tuning())
	if err != nil {
		t.Fatal(err)
	}
	bucket := a.Bucket(t, true)
	seedRepl(t, cl.Client, bucket)
	objs := listed(t, cl.Client, bucket)
	before := map[string]view{}
	for _, o := range objs {
		before[o.Key] = viewOf(t, cl.Client, bucket, o.Key, o.VersionID)
	}
	pl := newPlanner(cl.Client, cl.Client, "")
	pl.InPlace = &props.InPlace{MarkerKey: "s3pipe-replicated-at", MarkerValue: "2024-05-06T07:08:09Z"}
	set := counters.New("s3copy", copier.CounterNames...)
	cp := copier.New(copier.Config{Mode: copier.ModeStream, SameIdentity: true, Workers: 4, Backoff: 10 * time.Millisecond}, cl.Client, cl.Client, set, nil)
	plans, _, reps := chain(t, pl, objs, nil, &copier.Router{Default: cp}, cl.Client)
	for _, p := range plans {
		if p.DstBucket != bucket || !strings.HasPrefix(p.Note, "in-place?") {
			t.Errorf("plan row %q: dst %s note %q", p.Key, p.DstBucket, p.Note)
		}
	}
	if n := set.Get("streamed"); n != 0 {
		t.Errorf("streamed = %d, want 0 (in place is server-side)", n)
	}
	if len(reps) != len(objs) {
		t.Fatalf("%d report rows for %d objects", len(reps), len(objs))
	}
	for _, r := range reps {
		if r.Status != record.OutcomeCopied {
			t.Errorf("%q: %s %s %s", r.Key, r.Status, r.ErrorCode, r.Message)
			continue
		}
		var old string
		for _, o := range objs {
			if o.Key == r.Key {
				old = o.VersionID
			}
		}
		vs, err := cl.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: aws.String(r.Key)})
		if err != nil {
			t.Fatal(err)
		}
		var latest string
		ids := map[string]bool{}
		for _, v := range vs.Versions {
			if aws.ToString(v.Key) != r.Key {
				continue
			}
			ids[aws.ToString(v.VersionId)] = true
			if aws.ToBool(v.IsLatest) {
				latest = aws.ToString(v.VersionId)
			}
		}
		if len(ids) != 2 || !ids[old] || latest == old || latest != r.DstVersionID || r.DstVersionID == "" {
			t.Errorf("%q: versions %v, latest %s, old %s, report dst_version_id %s", r.Key, ids, latest, old, r.DstVersionID)
		}
		want := before[r.Key]
		want.Meta = maps.Clone(want.Meta)
		want.Meta["s3pipe-replicated-at"] = "2024-05-06T07:08:09Z"
		got := viewOf(t, cl.Client, bucket, r.Key, r.DstVersionID)
		if want.SSE == "aws:kms" { // an SSE-KMS ETag is not the content MD5: each version has its own
			want.ETag, got.ETag = "", ""
		}
		if got.String() != want.String() {
			t.Errorf("%q new version:\n got %s\nwant %s", r.Key, got, want)
		}
		if oldView := viewOf(t, cl.Client, bucket, r.Key, old); oldView.String() != before[r.Key].String() {
			t.Errorf("%q old version changed: %s", r.Key, oldView)
		}
	}
}

// countingTransport counts GET requests of object bodies (not tagging,
// ACL or listing requests) per path and Range.
type countingTransport struct {
	next s3.HTTPClient
	mu   sync.Mutex
	gets map[string]int
}

func (c *countingTransport) Do(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && !r.URL.Query().Has("tagging") && !r.URL.Query().Has("acl") && !r.URL.Query().Has("list-type") && !r.URL.Query().Has("uploadId") {
		c.mu.Lock()
		c.gets[r.URL.Path+" "+r.Header.Get("Range")]++
		c.mu.Unlock()
	}
	return c.next.Do(r)
}

// failingDst makes PutObject and UploadPart read part of the body and then
// fail with AccessDenied (not retried): a destination dying mid-stream.
type failingDst struct {
	*s3.Client
	after int64
}

var errDenied = &smithy.GenericAPIError{Code: "AccessDenied", Message: "test: destination refuses mid-stream"}

func (f failingDst) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	io.CopyN(io.Discard, in.Body, f.after)
	return nil, errDenied
}

func (f failingDst) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	io.CopyN(io.Discard, in.Body, f.after)
	return nil, errDenied
}

// TestFanoutTwoServers streams each source object once to two
// destinations: a bucket on the source's server and one on server B with
// other credentials. Every destination equals the source, gets its own
// report row, and each source range is read with one GET. Then one
// destination fails mid-stream: the other still completes, and the
// failed report row re-driven copies to that destination only.
func TestFanoutTwoServers(t *testing.T) {
	a, b := s3test.A(t), s3test.B(t)
	ctx := context.Background()
	ca, err := s3client.New(ctx, a.Side(), s3test.Tuning())
	if err != nil {
		t.Fatal(err)
	}
	cb, err := s3client.New(ctx, b.Side(), s3test.Tuning())
	if err != nil {
		t.Fatal(err)
	}
	srcB, dstA, dstB := a.Bucket(t, false), a.Bucket(t, false), b.Bucket(t, false)
	seedRepl(t, ca.Client, srcB)
	objs := listed(t, ca.Client, srcB)
	ct := &countingTransport{gets: map[string]int{}}
	counted := s3.New(ca.Options(), func(o *s3.Options) {
		ct.next = o.HTTPClient
		o.HTTPClient = ct
	})
	run := func(dstBAPI copier.API, objs []record.Object, reports []record.Report) ([]record.Plan, []record.Result, []record.Report) {
		routed := &dests.Routed{C: &dests.Clients{Default: ca, ByBucket: map[string]*s3client.Client{dstB: cb}}}
		pl := newPlanner(ca.Client, routed, dstA)
		pl.Also = []string{dstB}
		set := counters.New("s3copy", copier.CounterNames...)
		cp := copier.New(copier.Config{Mode: copier.ModeStream, Workers: 4, Backoff: 10 * time.Millisecond}, counted, ca.Client, set, nil)
		rt := &copier.Router{Default: cp, ByBucket: map[string]*copier.Copier{dstB: cp.ForDestination(dstBAPI, false)}}
		return chain(t, pl, objs, reports, rt, routed)
	}

	plans, _, reps := run(cb.Client, objs, nil)
	// Rows of one source range are adjacent, destination A then B.
	for i := 0; i+1 < len(plans); i += 2 {
		p, q := plans[i], plans[i+1]
		if p.DstBucket != dstA || q.DstBucket != dstB || !copier.SameSource(&p, &q) {
			t.Fatalf("plan rows %d,%d: %s %q part %d -> %s, %s %q part %d -> %s", i, i+1, p.Action, p.Key, p.PartNumber, p.DstBucket, q.Action, q.Key, q.PartNumber, q.DstBucket)
		}
	}
	got := map[string]int{}
	for _, r := range reps {
		got[r.Key+" -> "+r.DstBucket]++
		if r.Status != record.OutcomeCopied {
			t.Errorf("%q -> %s: %s %s %s", r.Key, r.DstBucket, r.Status, r.ErrorCode, r.Message)
		}
	}
	for _, o := range objs {
		for _, d := range []struct {
			c      *s3.Client
			bucket string
		}{{ca.Client, dstA}, {cb.Client, dstB}} {
			if got[o.Key+" -> "+d.bucket] != 1 {
				t.Errorf("%q -> %s: %d report rows, want 1", o.Key, d.bucket, got[o.Key+" -> "+d.bucket])
			}
			want, have := viewOf(t, ca.Client, srcB, o.Key, ""), viewOf(t, d.c, d.bucket, o.Key, "")
			if want.SSE == "aws:kms" { // an SSE-KMS ETag is not the content MD5
				want.ETag, have.ETag = "", ""
			}
			if want.String() != have.String() {
				t.Errorf("%q at %s:\n got %s\nwant %s", o.Key, d.bucket, have, want)
			}
		}
	}
	// One GET per source range: 3 single objects + 2 parts.
	total := 0
	for k, n := range ct.gets {
		total += n
		if n != 1 {
			t.Errorf("GET %s: %d times, want once", k, n)
		}
	}
	if total != 5 {
		t.Errorf("%d source GETs, want 5: %v", total, ct.gets)
	}

	// Destination B dies mid-stream (after 100 KiB): A completes anyway.
	for k := range ct.gets {
		delete(ct.gets, k)
	}
	big := []record.Object{objs[1], objs[3]} // tee'd single object and multipart
	_, results, reps := run(failingDst{cb.Client, 100 << 10}, big, nil)
	var failed []record.Report
	for _, r := range reps {
		switch {
		case r.DstBucket == dstA && r.Status != record.OutcomeCopied:
			t.Errorf("%q -> A: %s %s %s (a failing other destination must not hurt it)", r.Key, r.Status, r.ErrorCode, r.Message)
		case r.DstBucket == dstB && (r.Status != record.OutcomeFailed || r.ErrorCode != "AccessDenied"):
			t.Errorf("%q -> B: %s %s, want failed AccessDenied", r.Key, r.Status, r.ErrorCode)
		case r.DstBucket == dstB:
			failed = append(failed, r)
		}
	}
	for _, r := range results {
		if r.DstBucket == dstA && r.Status != record.StatusOK {
			t.Errorf("result %q part %d -> A: %s", r.Key, r.PartNumber, r.Status)
		}
	}
	if len(failed) != 2 || len(ct.gets) != 3 {
		t.Fatalf("failed B rows %d (want 2), source GETs %v (want 3 ranges)", len(failed), ct.gets)
	}
	// Overwrite B's copies so the re-drive must really write them.
	for _, o := range big {
		if _, err := cb.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &dstB, Key: aws.String(o.Key)}); err != nil {
			t.Fatal(err)
		}
	}
	plans, _, reps = run(cb.Client, nil, failed)
	for _, p := range plans {
		if p.DstBucket != dstB {
			t.Errorf("re-drive planned %q for %s: only B failed", p.Key, p.DstBucket)
		}
	}
	if len(reps) != 2 {
		t.Fatalf("re-drive: %d report rows, want 2", len(reps))
	}
	for _, r := range reps {
		if r.Status != record.OutcomeCopied || r.DstBucket != dstB {
			t.Errorf("re-drive %q -> %s: %s %s %s", r.Key, r.DstBucket, r.Status, r.ErrorCode, r.Message)
		}
		if want, have := viewOf(t, ca.Client, srcB, r.Key, ""), viewOf(t, cb.Client, dstB, r.Key, ""); want.String() != have.String() {
			t.Errorf("re-driven %q:\n got %s\nwant %s", r.Key, have, want)
		}
	}
}
