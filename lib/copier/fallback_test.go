package copier_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3pipe/s3pipe/lib/copier"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/props"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// refusingCopy answers AccessDenied to every server-side copy request
// (CopyObject, UploadPartCopy: the ones with x-amz-copy-source), as S3 does
// when the destination identity may not read the source.
type refusingCopy struct {
	next    s3.HTTPClient
	refused *atomic.Int32
}

func (r refusingCopy) Do(req *http.Request) (*http.Response, error) {
	if req.Header.Get("X-Amz-Copy-Source") == "" {
		return r.next.Do(req)
	}
	r.refused.Add(1)
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	body := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>`
	return &http.Response{StatusCode: http.StatusForbidden, Status: "403 Forbidden", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/xml"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: req}, nil
}

// TestAutoFallsBackToStream: in auto mode with one identity, a refused
// server-side copy is streamed instead, with the stream's proofs.
func TestAutoFallsBackToStream(t *testing.T) {
	e := newEnv(t, setup{"auto", copier.ModeAuto, false})
	small := s3test.RandomBytes(10<<10, 1)
	big := s3test.RandomBytes(3*MiB, 2) // over the small-object buffer
	s3test.Put(t, e.src.Client, e.srcB, "small", small)
	s3test.Put(t, e.src.Client, e.srcB, "big", big)
	multi, _ := s3test.PutMultipart(t, e.src.Client, e.srcB, "multi", []int64{5 * MiB, 1 * MiB})
	objs := []record.Object{e.object("small"), e.object("big"), e.object("multi")}
	plans := e.plan(objs...)

	var refused atomic.Int32
	dst := s3.New(e.dst.Client.Options(), func(o *s3.Options) { o.HTTPClient = refusingCopy{next: o.HTTPClient, refused: &refused} })
	set := counters.New("s3copy", copier.CounterNames...)
	cp := copier.New(copier.Config{Mode: copier.ModeAuto, SameIdentity: true, Workers: 4, Backoff: 10 * time.Millisecond},
		e.src.Client, dst, set, copier.NewLimiter(0))
	var in, out bytes.Buffer
	w := tsv.NewWriter(&in)
	for i := range plans {
		plans[i].Write(w)
	}
	w.Flush()
	if err := copier.Run(context.Background(), cp, tsv.NewReader(&in), &out, 4); err != nil {
		t.Fatalf("run: %v", err)
	}
	rs := readResults(t, out.Bytes())
	if len(rs) != len(plans) {
		t.Fatalf("%d result rows for %d plan rows", len(rs), len(plans))
	}
	wantProof := map[string]string{"small": record.ProofETag, "big": record.ProofETag, "multi": record.ProofETag}
	for _, r := range rs {
		if r.Status != record.StatusOK || r.Proof != wantProof[r.Key] {
			t.Errorf("%s part %d: status %s proof %q (%s %s), want ok with proof %s", r.Key, r.PartNumber, r.Status, r.Proof, r.ErrorCode, r.Message, wantProof[r.Key])
		}
	}
	if int(refused.Load()) != len(plans) {
		t.Errorf("%d server-side copies refused, want one per plan row (%d)", refused.Load(), len(plans))
	}
	if got := set.Get("streamed"); got != int64(len(plans)) || set.Get("server_copies") != 0 {
		t.Errorf("counters streamed=%d server_copies=%d, want %d and 0", got, set.Get("server_copies"), len(plans))
	}
	etags := e.complete(rs)
	for _, o := range objs {
		if etags[o.Key] != o.ETag {
			t.Errorf("%s: destination ETag %s, source %s", o.Key, etags[o.Key], o.ETag)
		}
	}
	for k, want := range map[string][]byte{"small": small, "big": big, "multi": multi} {
		if got, _ := e.getDst(k); !bytes.Equal(got, want) {
			t.Errorf("%s: destination bytes differ", k)
		}
	}

	// --mode server does not fall back: the refusal is the row's error.
	e2 := newEnv(t, setup{"server", copier.ModeServer, false})
	s3test.Put(t, e2.src.Client, e2.srcB, "small", small)
	p2 := e2.plan(e2.object("small"))
	dst2 := s3.New(e2.dst.Client.Options(), func(o *s3.Options) { o.HTTPClient = refusingCopy{next: o.HTTPClient, refused: &refused} })
	cp2 := copier.New(copier.Config{Mode: copier.ModeServer, SameIdentity: true}, e2.src.Client, dst2, nil, nil)
	r, _ := cp2.Copy(context.Background(), &p2[0])
	if r.Status != record.StatusFailed || r.ErrorCode != "AccessDenied" || r.HTTPStatus != 403 {
		t.Errorf("--mode server, refused: %+v", r)
	}
}

func readResults(t *testing.T, b []byte) []record.Result {
	t.Helper()
	rs, err := record.ReadAll(bytes.NewReader(b), record.ParseResult)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// counting counts requests by method.
type counting struct {
	next  s3.HTTPClient
	heads *atomic.Int32
	puts  *atomic.Int32
}

func (c counting) Do(req *http.Request) (*http.Response, error) {
	switch req.Method {
	case http.MethodHead:
		c.heads.Add(1)
	case http.MethodPut:
		c.puts.Add(1)
	}
	return c.next.Do(req)
}

// TestTrustDstEncryption: with the flag a whole-object server-side copy is
// one CopyObject (no HEAD) and still keeps content headers, metadata, tags
// and storage class; only the encryption is the destination's default. An
// SSE-KMS source (ETag not an MD5) costs one HEAD to prove it is not a
// mismatch.
func TestTrustDstEncryption(t *testing.T) {
	e := newEnv(t, setups[0])
	a := s3test.A(t)
	expires := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	meta := map[string]string{"pct": "100% sure %41", "uni": "grüße ☃"}
	mut := func(sse string) func(*s3.PutObjectInput) {
		return func(in *s3.PutObjectInput) {
			in.ContentType, in.CacheControl = aws.String("text/x-test"), aws.String("max-age=60")
			in.ContentDisposition, in.ContentEncoding, in.ContentLanguage = aws.String("inline"), aws.String("gzip"), aws.String("de")
			in.Expires, in.Metadata, in.Tagging = &expires, meta, aws.String("a=1&b=x%20y")
			in.StorageClass = types.StorageClassReducedRedundancy
			if sse != "" {
				in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryption(sse), aws.String(a.KMSKey)
			}
		}
	}
	s3test.Put(t, e.src.Client, e.srcB, "plain", []byte("plain body"), mut(""))
	s3test.Put(t, e.src.Client, e.srcB, "kms", []byte("kms body"), mut("aws:kms"))
	objs := []record.Object{e.object("plain"), e.object("kms")}
	for i := range objs {
		objs[i].StorageClass = "REDUCED_REDUNDANCY" // as s3list reports it
	}
	plans := e.plan(objs...)
	var heads, puts atomic.Int32
	dst := s3.New(e.dst.Client.Options(), func(o *s3.Options) { o.HTTPClient = counting{next: o.HTTPClient, heads: &heads, puts: &puts} })
	cp := copier.New(copier.Config{Mode: copier.ModeServer, SameIdentity: true, TrustDstEncryption: true}, e.src.Client, dst, nil, nil)
	for i := range plans {
		r, err := cp.Copy(context.Background(), &plans[i])
		want := map[string]string{"plain": record.ProofETag, "kms": record.ProofServer}[r.Key]
		if err != nil || r.Status != record.StatusOK || r.Proof != want {
			t.Errorf("%s: %v status %s proof %q (%s %s), want ok %s", r.Key, err, r.Status, r.Proof, r.ErrorCode, r.Message, want)
		}
	}
	if heads.Load() != 1 || puts.Load() != 2 {
		t.Errorf("%d HEADs and %d PUTs; want 1 (only for the SSE-KMS source) and 2", heads.Load(), puts.Load())
	}
	for _, k := range []string{"plain", "kms"} {
		sh, err := e.src.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &e.srcB, Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		dh, err := e.dst.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &e.dstB, Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		want, got := props.FromHead(sh), props.FromHead(dh)
		want.SSE, want.SSEKMSKeyID, want.BucketKeyOn, want.TagCount, got.TagCount = "", "", nil, 0, 0
		// MinIO drops Expires on a COPY-directive copy (AWS S3 keeps it):
		// documented with the flag.
		want.Expires, got.Expires = "", ""
		if got.String() != want.String() {
			t.Errorf("%s:\n got %s\nwant %s (but the bucket's encryption)", k, got, want)
		}
		dt, err := e.dst.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: &e.dstB, Key: aws.String(k)})
		if err != nil || props.FormatTags(dt.TagSet) != "a=1&b=x+y" {
			t.Errorf("%s tags %q %v", k, props.FormatTags(dt.TagSet), err)
		}
	}
}
