package copier_test

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
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3pipe/s3pipe/lib/copier"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/planner"
	"github.com/s3pipe/s3pipe/lib/props"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/s3test"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

func TestMain(m *testing.M) { s3test.Main(m) }

const MiB = s3test.MiB

// env is one copy setup: source and destination servers, buckets, mode.
type env struct {
	t            *testing.T
	src, dst     *s3client.Client
	srcB, dstB   string
	mode         copier.Mode
	over         props.Override
	partSize     int64
	planCounters *counters.Set
	copyCounters *counters.Set
}

type setup struct {
	name     string
	mode     copier.Mode
	crossAcc bool // destination on server B
}

var setups = []setup{
	{"server", copier.ModeServer, false},
	{"stream-same", copier.ModeStream, false},
	{"stream-cross", copier.ModeStream, true},
}

func newEnv(t *testing.T, s setup) *env {
	t.Helper()
	a := s3test.A(t)
	d := a
	if s.crossAcc {
		d = s3test.B(t)
	}
	ctx := context.Background()
	src, err := s3client.New(ctx, a.Side(), s3test.Tuning())
	if err != nil {
		t.Fatal(err)
	}
	dst, err := s3client.New(ctx, d.Side(), s3test.Tuning())
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, src: src, dst: dst, srcB: a.Bucket(t, false), dstB: d.Bucket(t, false), mode: s.mode}
}

// object returns the object record of a source key, as s3list would.
func (e *env) object(key string) record.Object {
	e.t.Helper()
	h, err := e.src.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &e.srcB, Key: &key})
	if err != nil {
		e.t.Fatalf("head %q: %v", key, err)
	}
	return record.Object{Key: key, ETag: strings.Trim(aws.ToString(h.ETag), `"`), Size: aws.ToInt64(h.ContentLength),
		MTime: aws.ToTime(h.LastModified), Bucket: e.srcB}
}

// plan runs the planner over object rows and returns its plan rows.
func (e *env) plan(objs ...record.Object) []record.Plan {
	e.t.Helper()
	var in bytes.Buffer
	w := tsv.NewWriter(&in)
	for i := range objs {
		objs[i].Write(w)
	}
	w.Flush()
	e.planCounters = counters.New("s3mpplan", planner.CounterNames...)
	pl := &planner.Planner{Src: e.src.Client, Dst: e.dst.Client, Override: e.over, DstBucket: e.dstB, PartSize: e.partSize, HeadConc: 4, Set: e.planCounters}
	var out bytes.Buffer
	if err := planner.PlanAll(context.Background(), pl, tsv.NewReader(&in), &out, 8); err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	return readPlans(e.t, out.Bytes())
}

func readPlans(t *testing.T, b []byte) []record.Plan {
	t.Helper()
	rs, err := record.ReadAll(bytes.NewReader(b), record.ParsePlan)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// copy runs s3copy's engine over plan rows; it returns the result rows and
// the run error.
func (e *env) copy(plans []record.Plan) ([]record.Result, error) {
	e.t.Helper()
	var in bytes.Buffer
	w := tsv.NewWriter(&in)
	for i := range plans {
		plans[i].Write(w)
	}
	w.Flush()
	e.copyCounters = counters.New("s3copy", copier.CounterNames...)
	cp := copier.New(copier.Config{Mode: e.mode, SameIdentity: e.src.Key == e.dst.Key, Override: e.over, Workers: 8, Backoff: 10 * time.Millisecond},
		e.src.Client, e.dst.Client, e.copyCounters, copier.NewLimiter(0))
	var out bytes.Buffer
	err := copier.Run(context.Background(), cp, tsv.NewReader(&in), &out, 8)
	r := tsv.NewReader(&out)
	var rs []record.Result
	for {
		f, rerr := r.Read()
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			e.t.Fatal(rerr)
		}
		var x record.Result
		if perr := record.ParseResult(f, &x); perr != nil {
			e.t.Fatalf("result row %d: %v", r.Line(), perr)
		}
		rs = append(rs, x)
	}
	if len(rs) != len(plans) {
		e.t.Fatalf("%d result rows for %d plan rows", len(rs), len(plans))
	}
	return rs, err
}

// complete is the test's stand-in for s3mpdone: it completes every upload
// whose parts all succeeded, parts in order, and returns the destination
// ETag per key (whole-object copies included).
func (e *env) complete(rs []record.Result) map[string]string {
	e.t.Helper()
	etags := map[string]string{}
	uploads := map[string][]record.Result{}
	for _, r := range rs {
		if r.Status != record.StatusOK {
			e.t.Errorf("row %q part %d: status %s %s %s", r.Key, r.PartNumber, r.Status, r.ErrorCode, r.Message)
			continue
		}
		if r.Action == record.ActionCopy {
			etags[r.Key] = r.DstETag
			continue
		}
		uploads[r.UploadID] = append(uploads[r.UploadID], r)
	}
	for id, parts := range uploads {
		sort.Slice(parts, func(i, j int) bool { return parts[i].PartNumber < parts[j].PartNumber })
		if int(parts[0].PartCount) != len(parts) {
			e.t.Errorf("upload of %q: %d of %d parts", parts[0].Key, len(parts), parts[0].PartCount)
			continue
		}
		var cps []types.CompletedPart
		for _, p := range parts {
			cps = append(cps, types.CompletedPart{PartNumber: aws.Int32(p.PartNumber), ETag: aws.String(`"` + p.DstETag + `"`)})
		}
		out, err := e.dst.CompleteMultipartUpload(context.Background(), &s3.CompleteMultipartUploadInput{Bucket: &e.dstB,
			Key: aws.String(parts[0].Key), UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: cps}})
		if err != nil {
			e.t.Errorf("complete %q: %v", parts[0].Key, err)
			continue
		}
		etags[parts[0].Key] = strings.Trim(aws.ToString(out.ETag), `"`)
	}
	return etags
}

func (e *env) getDst(key string) ([]byte, *s3.GetObjectOutput) {
	e.t.Helper()
	out, err := e.dst.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &e.dstB, Key: &key})
	if err != nil {
		e.t.Fatalf("get destination %q: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return b, out
}

func TestLayoutsReproduced(t *testing.T) {
	layouts := []struct {
		name  string
		parts []int64
	}{
		{"5MiB", []int64{5 * MiB, 5 * MiB, 1 * MiB}},
		{"8MiB", []int64{8 * MiB, 8 * MiB, 3 * MiB}},
		{"16MiB", []int64{16 * MiB, 2 * MiB}},
		{"64MiB", []int64{64 * MiB, 6 * MiB}},
		{"nonuniform", []int64{5 * MiB, 7 * MiB, 5 * MiB, 1 * MiB}},
		{"one-part", []int64{3 * MiB}},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			e := newEnv(t, s)
			a := e.src.Client
			var objs []record.Object
			bodies := map[string][]byte{}
			for _, l := range layouts {
				body, _ := s3test.PutMultipart(t, a, e.srcB, "mp/"+l.name, l.parts)
				bodies["mp/"+l.name] = body
				objs = append(objs, e.object("mp/"+l.name))
			}
			plans := e.plan(objs...)
			// Plan rows reproduce every layout exactly.
			var i int
			for _, l := range layouts {
				var off int64
				for k, n := range l.parts {
					p := plans[i]
					i++
					if p.Key != "mp/"+l.name || p.Action != record.ActionPart || p.PartNumber != int32(k+1) || p.PartCount != int32(len(l.parts)) ||
						p.Offset != off || p.Length != n || p.Verify != record.VerifyETag {
						t.Errorf("plan row for %s part %d: %+v", l.name, k+1, p)
					}
					off += n
				}
			}
			if i != len(plans) {
				t.Errorf("%d plan rows, want %d", len(plans), i)
			}
			rs, err := e.copy(plans)
			if err != nil {
				t.Fatalf("copy: %v", err)
			}
			etags := e.complete(rs)
			for _, o := range objs {
				if etags[o.Key] != o.ETag {
					t.Errorf("%s: destination ETag %s, source %s", o.Key, etags[o.Key], o.ETag)
				}
				got, _ := e.getDst(o.Key)
				if !bytes.Equal(got, bodies[o.Key]) {
					t.Errorf("%s: destination bytes differ", o.Key)
				}
			}
			wantMode := "server_copies"
			if s.mode == copier.ModeStream {
				wantMode = "streamed"
			}
			if got := e.copyCounters.Get(wantMode); got != int64(len(plans)) {
				t.Errorf("counter %s = %d, want %d", wantMode, got, len(plans))
			}
		})
	}
}

// propObject describes the properties a test object is written with.
type propObject struct {
	key   string
	parts []int64 // nil = single PutObject of size
	size  int64
	sse   string // "", AES256, aws:kms
}

func TestPropertiesPreserved(t *testing.T) {
	expires := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	meta := map[string]string{"pct": "100% sure %41", "uni": "grüße ☃", "plain": "v"}
	tags := "team=data&note=a%20b%2Bc&path=x/y:z"
	objs := []propObject{
		{key: "single", size: 2000},
		{key: "single-big", size: 3 * MiB}, // over the small-object buffer: streamed
		{key: "multi", parts: []int64{5 * MiB, 1 * MiB}},
		{key: "single-sse-s3", size: 1000, sse: "AES256"},
		{key: "multi-sse-s3", parts: []int64{5 * MiB, 2}, sse: "AES256"},
		{key: "single-kms", size: 1000, sse: "aws:kms"},
		{key: "multi-kms", parts: []int64{5 * MiB, 2}, sse: "aws:kms"},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			e := newEnv(t, s)
			a := s3test.A(t)
			var rows []record.Object
			bodies := map[string][]byte{}
			for _, o := range objs {
				kms := a.KMSKey
				if o.parts == nil {
					body := s3test.RandomBytes(o.size, uint64(len(o.key)))
					bodies[o.key] = body
					s3test.Put(t, e.src.Client, e.srcB, o.key, body, func(in *s3.PutObjectInput) {
						in.ContentType, in.CacheControl = aws.String("text/x-test; charset=utf-8"), aws.String("max-age=60")
						in.ContentDisposition, in.ContentEncoding = aws.String(`attachment; filename="a b.txt"`), aws.String("gzip")
						in.ContentLanguage, in.Expires, in.Metadata = aws.String("de-CH"), &expires, meta
						in.Tagging, in.StorageClass = aws.String(tags), types.StorageClassReducedRedundancy
						in.WebsiteRedirectLocation = aws.String("/other/page")
						if o.sse != "" {
							in.ServerSideEncryption = types.ServerSideEncryption(o.sse)
						}
						if o.sse == "aws:kms" {
							in.SSEKMSKeyId = &kms
						}
					})
				} else {
					bodies[o.key], _ = s3test.PutMultipart(t, e.src.Client, e.srcB, o.key, o.parts, func(in *s3.CreateMultipartUploadInput) {
						in.ContentType, in.CacheControl = aws.String("text/x-test; charset=utf-8"), aws.String("max-age=60")
						in.ContentDisposition, in.ContentEncoding = aws.String(`attachment; filename="a b.txt"`), aws.String("gzip")
						in.ContentLanguage, in.Expires, in.Metadata = aws.String("de-CH"), &expires, meta
						in.Tagging, in.StorageClass = aws.String(tags), types.StorageClassReducedRedundancy
						in.WebsiteRedirectLocation = aws.String("/other/page")
						if o.sse != "" {
							in.ServerSideEncryption = types.ServerSideEncryption(o.sse)
						}
						if o.sse == "aws:kms" {
							in.SSEKMSKeyId = &kms
						}
					})
				}
				rows = append(rows, e.object(o.key))
			}
			plans := e.plan(rows...)
			rs, err := e.copy(plans)
			if err != nil {
				t.Fatalf("copy: %v", err)
			}
			etags := e.complete(rs)
			for _, r := range rs {
				if r.Proof == "" && r.Action == record.ActionCopy {
					t.Errorf("%s: no proof", r.Key)
				}
			}
			for i, o := range objs {
				srcHead, err := e.src.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &e.srcB, Key: aws.String(o.key)})
				if err != nil {
					t.Fatal(err)
				}
				dstHead, err := e.dst.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &e.dstB, Key: aws.String(o.key)})
				if err != nil {
					t.Fatalf("head destination %s: %v", o.key, err)
				}
				want, got := props.FromHead(srcHead), props.FromHead(dstHead)
				want.TagCount, got.TagCount = 0, 0
				if o.sse == "aws:kms" && strings.HasSuffix(got.SSEKMSKeyID, a.KMSKey) && strings.HasSuffix(want.SSEKMSKeyID, a.KMSKey) {
					// MinIO may prefix the key id with an ARN; both name s3pipe-key.
					got.SSEKMSKeyID = want.SSEKMSKeyID
				}
				if want.String() != got.String() {
					t.Errorf("%s properties:\n got %s\nwant %s", o.key, got, want)
				}
				if want.SSE != o.sse || want.StorageClass != "REDUCED_REDUNDANCY" || want.Metadata["pct"] != meta["pct"] || want.Metadata["uni"] == "" {
					t.Errorf("%s: the source does not hold what the test wrote: %s", o.key, want)
				}
				st, err := e.src.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: &e.srcB, Key: aws.String(o.key)})
				if err != nil {
					t.Fatal(err)
				}
				dt, err := e.dst.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: &e.dstB, Key: aws.String(o.key)})
				if err != nil {
					t.Fatal(err)
				}
				if props.FormatTags(st.TagSet) != props.FormatTags(dt.TagSet) || len(st.TagSet) != 3 {
					t.Errorf("%s tags: got %q want %q", o.key, props.FormatTags(dt.TagSet), props.FormatTags(st.TagSet))
				}
				body, _ := e.getDst(o.key)
				if !bytes.Equal(body, bodies[o.key]) {
					t.Errorf("%s: bytes differ (Content-Encoding gzip must not be decoded)", o.key)
				}
				if o.sse != "aws:kms" && etags[o.key] != rows[i].ETag {
					t.Errorf("%s: destination ETag %s, source %s", o.key, etags[o.key], rows[i].ETag)
				}
			}
		})
	}
}

func TestOverrides(t *testing.T) {
	e := newEnv(t, setups[0])
	s3test.Put(t, e.src.Client, e.srcB, "s", []byte("hello"), func(in *s3.PutObjectInput) { in.ContentType = aws.String("a/b") })
	s3test.PutMultipart(t, e.src.Client, e.srcB, "m", []int64{5 * MiB, 10}, func(in *s3.CreateMultipartUploadInput) { in.ContentType = aws.String("a/b") })
	f := props.Flags{ContentType: "x/y", Metadata: []string{"k=v"}, StorageClass: "REDUCED_REDUNDANCY"}
	var err error
	if e.over, err = f.Override(); err != nil {
		t.Fatal(err)
	}
	rs, err := e.copy(e.plan(e.object("s"), e.object("m")))
	if err != nil {
		t.Fatal(err)
	}
	e.complete(rs)
	for _, k := range []string{"s", "m"} {
		h, err := e.dst.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &e.dstB, Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(h.ContentType) != "x/y" || h.Metadata["k"] != "v" || h.StorageClass != types.StorageClassReducedRedundancy {
			t.Errorf("%s: overrides not applied: %s", k, props.FromHead(h))
		}
	}
}

var nastyKeys = []string{
	"tab\there", "new\nline", "cr\rkey", `back\slash`, `\N`, "plus+sign", "space key", "uni/ünï/☃/日本",
	"pct%41%2F", "q?x=1&y#z",
	// 1024 bytes: MinIO refuses path segments over 255 bytes, so 4 segments.
	strings.Repeat(strings.Repeat("k", 199)+"/", 5) + strings.Repeat("z", 24),
}

func TestNastyKeys(t *testing.T) {
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			e := newEnv(t, s)
			var objs []record.Object
			for i, k := range nastyKeys {
				s3test.Put(t, e.src.Client, e.srcB, k, []byte(fmt.Sprintf("body %d", i)))
				objs = append(objs, e.object(k))
			}
			mk := "multi+part key\t☃"
			s3test.PutMultipart(t, e.src.Client, e.srcB, mk, []int64{5 * MiB, 3})
			objs = append(objs, e.object(mk))
			rs, err := e.copy(e.plan(objs...))
			if err != nil {
				t.Fatalf("copy: %v", err)
			}
			e.complete(rs)
			for i, k := range nastyKeys {
				got, _ := e.getDst(k)
				if string(got) != fmt.Sprintf("body %d", i) {
					t.Errorf("key %q: got %q", k, got)
				}
			}
			// And nothing else: the destination holds exactly these keys.
			out, err := e.dst.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &e.dstB, EncodingType: types.EncodingTypeUrl})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Contents) != len(nastyKeys)+1 {
				t.Errorf("destination has %d keys, want %d", len(out.Contents), len(nastyKeys)+1)
			}
			for _, c := range out.Contents {
				k, _ := url.QueryUnescape(aws.ToString(c.Key))
				found := k == mk
				for _, n := range nastyKeys {
					found = found || n == k
				}
				if !found {
					t.Errorf("unexpected destination key %q", k)
				}
			}
		})
	}
}

func TestSourceChanged(t *testing.T) {
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			e := newEnv(t, s)
			s3test.Put(t, e.src.Client, e.srcB, "single", []byte("version one"))
			s3test.PutMultipart(t, e.src.Client, e.srcB, "multi", []int64{5 * MiB, 5})
			plans := e.plan(e.object("single"), e.object("multi"))
			s3test.Put(t, e.src.Client, e.srcB, "single", []byte("version two"))
			s3test.PutMultipart(t, e.src.Client, e.srcB, "multi", []int64{5 * MiB, 6})
			rs, err := e.copy(plans)
			if err == nil {
				t.Error("copy of changed sources succeeded; want an error (exit 1)")
			}
			for _, r := range rs {
				if r.Status != record.StatusFailed || r.ErrorCode != "PreconditionFailed" || r.Message != "source changed since listing" {
					t.Errorf("%s part %d: status %s code %s message %q", r.Key, r.PartNumber, r.Status, r.ErrorCode, r.Message)
				}
			}
			if _, err := e.dst.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &e.dstB, Key: aws.String("single")}); err == nil {
				t.Error("destination object written from a changed source")
			}
		})
	}
}

func TestPlanSourceChanged(t *testing.T) {
	e := newEnv(t, setups[0])
	s3test.PutMultipart(t, e.src.Client, e.srcB, "multi", []int64{5 * MiB, 5})
	o := e.object("multi")
	s3test.PutMultipart(t, e.src.Client, e.srcB, "multi", []int64{5 * MiB, 6})
	gone := record.Object{Key: "gone", ETag: "0123456789abcdef0123456789abcdef-2", Size: 6 * MiB, Bucket: e.srcB}
	plans := e.plan(o, gone)
	if len(plans) != 2 || plans[0].Action != record.ActionFail || plans[0].Note != "PreconditionFailed: source changed" ||
		plans[1].Action != record.ActionFail || plans[1].Note != "NoSuchKey: source not found" {
		t.Fatalf("plans: %+v", plans)
	}
	rs, err := e.copy(plans)
	if err == nil {
		t.Error("copy of fail rows: want an error (exit 1)")
	}
	for _, r := range rs {
		want := map[string]string{"multi": "PreconditionFailed", "gone": "NoSuchKey"}[r.Key]
		if r.Status != record.StatusFailed || r.ErrorCode != want {
			t.Errorf("fail rows must pass through as failed results: %+v", r)
		}
	}
}

func TestEdgeSizes(t *testing.T) {
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			e := newEnv(t, s)
			s3test.Put(t, e.src.Client, e.srcB, "empty", nil)
			five := s3test.RandomBytes(5*MiB, 5)
			s3test.Put(t, e.src.Client, e.srcB, "five", five)
			small := s3test.RandomBytes(SmallEdge, 7)
			s3test.Put(t, e.src.Client, e.srcB, "small-edge", small)
			s3test.PutMultipart(t, e.src.Client, e.srcB, "one-part-empty", []int64{0})
			objs := []record.Object{e.object("empty"), e.object("five"), e.object("small-edge"), e.object("one-part-empty"),
				{Key: "gone-marker", DeleteMarker: true, Bucket: e.srcB}}
			plans := e.plan(objs...)
			if plans[len(plans)-1].Action != record.ActionSkip || plans[len(plans)-1].Note != "delete marker" {
				t.Errorf("delete marker plan: %+v", plans[len(plans)-1])
			}
			rs, err := e.copy(plans)
			if err != nil {
				t.Fatalf("copy: %v", err)
			}
			var copied []record.Result
			for _, r := range rs {
				if r.Key == "gone-marker" {
					if r.Status != record.StatusSkipped || r.Message != "delete marker" {
						t.Errorf("skip row: %+v", r)
					}
					continue
				}
				copied = append(copied, r)
			}
			etags := e.complete(copied)
			for _, o := range objs[:4] {
				if etags[o.Key] != o.ETag {
					t.Errorf("%s: destination ETag %s, source %s", o.Key, etags[o.Key], o.ETag)
				}
			}
			if got, _ := e.getDst("five"); !bytes.Equal(got, five) {
				t.Error("five: bytes differ")
			}
		})
	}
}

// SmallEdge is exactly the small-object buffer size.
const SmallEdge = copier.SmallObject

func TestResumeSkipsUploadedParts(t *testing.T) {
	e := newEnv(t, setups[2])
	s3test.PutMultipart(t, e.src.Client, e.srcB, "m", []int64{5 * MiB, 5 * MiB, 7})
	o := e.object("m")
	plans := e.plan(o)
	if _, err := e.copy(plans[:2]); err != nil {
		t.Fatal(err)
	}
	rs, err := e.copy(plans)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.copyCounters.Get("resumed_parts"); got != 2 {
		t.Errorf("resumed_parts = %d, want 2", got)
	}
	for _, r := range rs[:2] {
		if r.Message != "already uploaded" || r.DstETag == "" {
			t.Errorf("part %d: %+v", r.PartNumber, r)
		}
	}
	if etags := e.complete(rs); etags["m"] != o.ETag {
		t.Errorf("ETag %s, want %s", etags["m"], o.ETag)
	}
}

func TestNewPartSize(t *testing.T) {
	e := newEnv(t, setups[0])
	s3test.PutMultipart(t, e.src.Client, e.srcB, "m", []int64{5 * MiB, 5 * MiB, 5 * MiB})
	e.partSize = 6 * MiB
	plans := e.plan(e.object("m"))
	if len(plans) != 3 || plans[0].Length != 6*MiB || plans[2].Length != 3*MiB || plans[0].Verify != record.VerifySize {
		t.Fatalf("plans: %+v", plans)
	}
	rs, err := e.copy(plans)
	if err != nil {
		t.Fatal(err)
	}
	if etags := e.complete(rs); !strings.HasSuffix(etags["m"], "-3") {
		t.Errorf("ETag %s", etags["m"])
	}
}
