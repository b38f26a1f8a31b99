package faultproxy

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/s3err"
	"github.com/s3pipe/s3pipe/lib/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// proxied starts a proxy in front of srv and an s3client whose endpoint is
// the proxy.
func proxied(t *testing.T, srv *s3test.Server, cfg Config, tune func(*s3client.Tuning)) (*Proxy, *s3.Client) {
	t.Helper()
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := New(target, cfg)
	t.Cleanup(p.Close)
	side := srv.Side()
	side.EndpointURL = p.URL()
	tuning := s3test.Tuning()
	if tune != nil {
		tune(&tuning)
	}
	c, err := s3client.New(context.Background(), side, tuning)
	if err != nil {
		t.Fatal(err)
	}
	return p, c.Client
}

// fastRetries keeps the client's retry policy but caps its back-off, so the
// retries in these tests take milliseconds.
func fastRetries(o *s3.Options) {
	o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, 20*time.Millisecond)
}

// copySource URL-encodes bucket/key per byte, keeping '/' and unreserved
// characters, as S3 wants x-amz-copy-source.
func copySource(bucket, key string) string {
	var b strings.Builder
	for _, c := range []byte(bucket + "/" + key) {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~/", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func attempts(md middleware.Metadata) int {
	r, ok := retry.GetAttemptResults(md)
	if !ok {
		return 0
	}
	return len(r.Results)
}

// TestMinIOSignedThroughProxy: every operation the tools use passes the
// proxy with valid signatures (PUT, GET, HEAD, POST, DELETE), keys with odd
// bytes included, and the proxy names each operation right.
func TestMinIOSignedThroughProxy(t *testing.T) {
	srv := s3test.A(t)
	bucket := srv.Bucket(t, false)
	p, c := proxied(t, srv, Config{}, nil)
	ctx := context.Background()
	key := "odd key\twith tab/é+plus%20\\back"
	big := bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16) // 5 MiB: smallest non-last part
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s through the proxy: %v", what, err)
		}
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(big),
		ContentType: aws.String("text/x-odd"), Metadata: map[string]string{"m": "v"}, Tagging: aws.String("t=1")})
	must("PutObject", err)
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	must("HeadObject", err)
	if aws.ToString(head.ContentType) != "text/x-odd" || head.Metadata["m"] != "v" || aws.ToInt64(head.ContentLength) != int64(len(big)) {
		t.Errorf("HeadObject: type %q metadata %v length %d", aws.ToString(head.ContentType), head.Metadata, aws.ToInt64(head.ContentLength))
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key, Range: aws.String("bytes=16-31")})
	must("GetObject", err)
	b, err := io.ReadAll(get.Body)
	get.Body.Close()
	must("read GetObject body", err)
	if string(b) != "0123456789abcdef" {
		t.Errorf("ranged GetObject = %q", b)
	}
	tags, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &bucket, Key: &key})
	must("GetObjectTagging", err)
	if len(tags.TagSet) != 1 {
		t.Errorf("tags %v", tags.TagSet)
	}
	dst := key + " copy"
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &bucket, Key: &dst, CopySource: aws.String(copySource(bucket, key))})
	must("CopyObject", err)

	mpKey := key + " multipart"
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &mpKey})
	must("CreateMultipartUpload", err)
	p1, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: &bucket, Key: &mpKey, UploadId: up.UploadId, PartNumber: aws.Int32(1),
		CopySource: aws.String(copySource(bucket, key))})
	must("UploadPartCopy", err)
	p2, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &mpKey, UploadId: up.UploadId, PartNumber: aws.Int32(2),
		Body: strings.NewReader("tail"), ContentLength: aws.Int64(4)})
	must("UploadPart", err)
	parts, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: &bucket, Key: &mpKey, UploadId: up.UploadId})
	must("ListParts", err)
	if len(parts.Parts) != 2 {
		t.Errorf("ListParts: %d parts", len(parts.Parts))
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &mpKey, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: p1.CopyPartResult.ETag}, {PartNumber: aws.Int32(2), ETag: p2.ETag}}}})
	must("CompleteMultipartUpload", err)
	ab, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &mpKey})
	must("CreateMultipartUpload", err)
	_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: &mpKey, UploadId: ab.UploadId})
	must("AbortMultipartUpload", err)

	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, EncodingType: types.EncodingTypeUrl})
	must("ListObjectsV2", err)
	var keys []string
	for _, o := range list.Contents {
		k, err := url.QueryUnescape(aws.ToString(o.Key))
		must("decode listed key", err)
		keys = append(keys, k)
	}
	if fmt.Sprint(keys) != fmt.Sprint([]string{key, dst, mpKey}) {
		t.Errorf("listed %q", keys)
	}
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &dst})
	must("DeleteObject", err)

	st := p.Stats()
	for _, op := range []Op{PutObject, HeadObject, GetObject, GetObjectTagging, CopyObject, CreateMultipartUpload, UploadPartCopy,
		UploadPart, ListParts, CompleteMultipartUpload, AbortMultipartUpload, ListObjectsV2, DeleteObject} {
		if st.Requests[op] == 0 {
			t.Errorf("no %s counted:\n%s", op, st)
		}
	}
	if st.Requests[Other] != 0 || st.TotalFaults() != 0 {
		t.Errorf("unclassified requests or faults:\n%s", st)
	}
}

// sdkCall is one SDK operation against a prepared bucket; it returns the
// result metadata and the error, having read any response body.
type sdkCall struct {
	op  Op
	run func(ctx context.Context, c *s3.Client, bucket string, opt func(*s3.Options)) (middleware.Metadata, error)
}

var payload = bytes.Repeat([]byte("payload."), 32<<10) // 256 KiB

func sdkCalls() []sdkCall {
	return []sdkCall{
		{GetObject, func(ctx context.Context, c *s3.Client, bucket string, opt func(*s3.Options)) (middleware.Metadata, error) {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("seed")}, opt)
			if err != nil {
				return middleware.Metadata{}, err
			}
			defer out.Body.Close()
			b, err := io.ReadAll(out.Body)
			if err == nil && !bytes.Equal(b, payload) {
				err = fmt.Errorf("body differs: %d bytes", len(b))
			}
			return out.ResultMetadata, err
		}},
		{HeadObject, func(ctx context.Context, c *s3.Client, bucket string, opt func(*s3.Options)) (middleware.Metadata, error) {
			out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("seed")}, opt)
			if err != nil {
				return middleware.Metadata{}, err
			}
			return out.ResultMetadata, nil
		}},
		{PutObject, func(ctx context.Context, c *s3.Client, bucket string, opt func(*s3.Options)) (middleware.Metadata, error) {
			out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("put"), Body: bytes.NewReader(payload)}, opt)
			if err != nil {
				return middleware.Metadata{}, err
			}
			return out.ResultMetadata, nil
		}},
		{ListObjectsV2, func(ctx context.Context, c *s3.Client, bucket string, opt func(*s3.Options)) (middleware.Metadata, error) {
			out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, EncodingType: types.EncodingTypeUrl}, opt)
			if err != nil {
				return middleware.Metadata{}, err
			}
			if len(out.Contents) == 0 {
				return out.ResultMetadata, errors.New("empty listing")
			}
			return out.ResultMetadata, nil
		}},
	}
}

// describe is a short name for what kind of failure err is.
func describe(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "ok"
	case s3err.HTTPStatus(err) != 0 && s3err.HTTPStatus(err) != 200:
		return fmt.Sprintf("%d %s", s3err.HTTPStatus(err), s3err.Code(err))
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		// A reset while the request body is still being written shows
		// on the writing side as a closed connection.
		errors.Is(err, net.ErrClosed):
		return "connection reset"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected EOF"
	case errors.Is(err, io.EOF):
		return "EOF"
	case errors.As(err, &ne) && ne.Timeout(), strings.Contains(err.Error(), "timeout"):
		return "timeout"
	}
	return "other: " + err.Error()
}

// TestMinIOFaultSeen: with one attempt, the SDK surfaces each injected
// fault as the error the fault stands for; with retries (and each request
// failing twice before it passes) the SDK recovers from 503, 500, resets
// and timeouts. Not retried by the SDK: body faults on GetObject (the body
// stream fails after GetObject returned) and a truncated ListObjectsV2 body
// (unexpected EOF while decoding); recovery is the caller's.
func TestMinIOFaultSeen(t *testing.T) {
	srv := s3test.A(t)
	bucket := srv.Bucket(t, false)
	s3test.Put(t, srv.Client(t), bucket, "seed", payload)
	type outcome struct{ once, retried string }
	tests := []struct {
		fault Fault
		op    Op
		want  outcome // describe() of the error with 1 attempt, and with 5
	}{
		{SlowDown, GetObject, outcome{"503 SlowDown", "ok"}},
		{SlowDown, PutObject, outcome{"503 SlowDown", "ok"}},
		{SlowDown, HeadObject, outcome{"503 ServiceUnavailable", "ok"}}, // HEAD has no body to name the code
		{SlowDown, ListObjectsV2, outcome{"503 SlowDown", "ok"}},
		{InternalError, GetObject, outcome{"500 InternalError", "ok"}},
		{InternalError, PutObject, outcome{"500 InternalError", "ok"}},
		{InternalError, ListObjectsV2, outcome{"500 InternalError", "ok"}},
		{ResetBeforeResponse, GetObject, outcome{"connection reset", "ok"}},
		{ResetBeforeResponse, PutObject, outcome{"connection reset", "ok"}},
		{ResetBeforeResponse, HeadObject, outcome{"connection reset", "ok"}},
		{ResetAfterForward, PutObject, outcome{"connection reset", "ok"}},
		{ResetAfterForward, ListObjectsV2, outcome{"connection reset", "ok"}},
		{SlowResponse, GetObject, outcome{"timeout", "ok"}},
		{SlowResponse, PutObject, outcome{"timeout", "ok"}},
		// On its own the SDK does not retry a response body that ends early
		// under a correct Content-Length (the deserializer's unexpected EOF
		// is not a retryable error, a reset is); s3client's retryer adds
		// decode failures, so the listing recovers.
		{TruncatedBody, ListObjectsV2, outcome{"unexpected EOF", "ok"}},
		{ResetMidBody, ListObjectsV2, outcome{"connection reset", "ok"}},
		{TruncatedBody, GetObject, outcome{"unexpected EOF", "unexpected EOF"}},
		{ResetMidBody, GetObject, outcome{"connection reset", "connection reset"}},
	}
	calls := map[Op]sdkCall{}
	for _, c := range sdkCalls() {
		calls[c.op] = c
	}
	for _, tt := range tests {
		t.Run(string(tt.fault)+"/"+string(tt.op), func(t *testing.T) {
			cfg := Config{Seed: 1, Ops: map[Op]Rates{tt.op: {tt.fault: 1}}, MaxFaultsPerRequest: 2,
				ResetReadBytes: 64 << 10, SlowDelay: 3 * time.Second}
			tune := func(tu *s3client.Tuning) { tu.HTTPTimeout = time.Second }
			ctx := context.Background()

			p1, once := proxied(t, srv, cfg, func(tu *s3client.Tuning) { tune(tu); tu.MaxAttempts = 1 })
			_, err := calls[tt.op].run(ctx, once, bucket, fastRetries)
			if got := describe(err); got != tt.want.once {
				t.Errorf("1 attempt: %s (%v), want %s", got, err, tt.want.once)
			}
			if n := p1.Stats().Faults[tt.fault][tt.op]; n < 1 {
				t.Errorf("1 attempt: %d faults counted", n)
			}

			p5, retried := proxied(t, srv, cfg, func(tu *s3client.Tuning) { tune(tu); tu.MaxAttempts = 5 })
			md, err := calls[tt.op].run(ctx, retried, bucket, fastRetries)
			if got := describe(err); got != tt.want.retried {
				t.Errorf("5 attempts: %s (%v), want %s", got, err, tt.want.retried)
			}
			st := p5.Stats()
			if err == nil {
				// Two faults, then success; net/http may have retried a
				// reset idempotent request on a reused connection itself,
				// so the SDK can count fewer attempts than the proxy saw.
				if n := st.Faults[tt.fault][tt.op]; n != 2 || attempts(md) < 1 || attempts(md) > 3 {
					t.Errorf("5 attempts: %d faults counted, SDK made %d attempts, want 2 faults and at most 3 attempts", n, attempts(md))
				}
			}
			t.Logf("%s on %s: 1 attempt → %s; 5 attempts → %s after %d SDK attempts, %d requests at the proxy",
				tt.fault, tt.op, tt.want.once, describe(err), attempts(md), st.Requests[tt.op])
		})
	}
}

// TestMinIO200Error: what the SDK makes of "200 OK with <Error> in the
// body" for the three operations where S3 does it, forwarded (the server
// did the work) and not. The SDK's S3 customisation
// (HandleResponseErrorWith200Status) rewrites the status to 500, so the
// call fails with InternalError and the standard retryer retries it.
func TestMinIO200Error(t *testing.T) {
	srv := s3test.A(t)
	bucket := srv.Bucket(t, false)
	direct := srv.Client(t)
	big := bytes.Repeat([]byte("5mib-part-"), 5<<20/10+1)
	s3test.Put(t, direct, bucket, "src", big)
	sum := md5.Sum(big)
	srcETag := `"` + hex.EncodeToString(sum[:]) + `"`
	ctx := context.Background()

	// run performs op once through c (the fault hits exactly that request)
	// and returns the number of attempts and the error.
	run := func(t *testing.T, c *s3.Client, op Op, dst string) (int, error) {
		t.Helper()
		var md middleware.Metadata
		var err error
		switch op {
		case CopyObject:
			var out *s3.CopyObjectOutput
			out, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &bucket, Key: &dst, CopySource: aws.String(copySource(bucket, "src"))}, fastRetries)
			if err == nil {
				md = out.ResultMetadata
			}
		case UploadPartCopy, CompleteMultipartUpload:
			up, cerr := direct.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &dst})
			if cerr != nil {
				t.Fatal(cerr)
			}
			pc := direct
			if op == UploadPartCopy {
				pc = c
			}
			var part *s3.UploadPartCopyOutput
			part, err = pc.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: &bucket, Key: &dst, UploadId: up.UploadId, PartNumber: aws.Int32(1),
				CopySource: aws.String(copySource(bucket, "src"))}, fastRetries)
			if err == nil && op == UploadPartCopy {
				md = part.ResultMetadata
			}
			if err == nil {
				cc := direct
				if op == CompleteMultipartUpload {
					cc = c
				}
				var out *s3.CompleteMultipartUploadOutput
				out, err = cc.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &dst, UploadId: up.UploadId,
					MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.CopyPartResult.ETag}}}}, fastRetries)
				if err == nil && op == CompleteMultipartUpload {
					md = out.ResultMetadata
				}
			}
			if err != nil {
				direct.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: &dst, UploadId: up.UploadId})
			}
		}
		return attempts(md), err
	}
	etag := func(dst string) string {
		h, err := direct.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &dst})
		if err != nil {
			return describe(err)
		}
		return aws.ToString(h.ETag)
	}
	for _, op := range []Op{CopyObject, UploadPartCopy, CompleteMultipartUpload} {
		for _, fault := range []Fault{Error200, Error200Unforwarded} {
			t.Run(string(op)+"/"+string(fault), func(t *testing.T) {
				cfg := Config{Ops: map[Op]Rates{op: {fault: 1}}, MaxFaultsPerRequest: 1}
				p1, once := proxied(t, srv, cfg, func(tu *s3client.Tuning) { tu.MaxAttempts = 1 })
				dst1 := "once-" + string(op) + "-" + string(fault)
				_, err1 := run(t, once, op, dst1)
				if got := describe(err1); got != "500 InternalError" {
					t.Errorf("1 attempt: %s (%v), want the SDK to turn the 200 into 500 InternalError", got, err1)
				}
				if p1.Stats().Faults[fault][op] != 1 {
					t.Errorf("1 attempt: fault not counted:\n%s", p1.Stats())
				}
				after1 := etag(dst1)

				p3, retried := proxied(t, srv, cfg, func(tu *s3client.Tuning) { tu.MaxAttempts = 3 })
				dst3 := "retried-" + string(op) + "-" + string(fault)
				n, err := run(t, retried, op, dst3)
				after3 := etag(dst3)
				t.Logf("%s with %s: 1 attempt → %s, destination afterwards: %s; 3 attempts → %s (%d SDK attempts, %d requests at the proxy), destination: %s",
					op, fault, describe(err1), after1, describe(err), n, p3.Stats().Requests[op], after3)
				switch {
				case op == CompleteMultipartUpload && fault == Error200:
					// The first Complete did assemble the object; the retry
					// finds the upload gone.
					if got := describe(err); got != "404 NoSuchUpload" {
						t.Errorf("3 attempts: %s (%v), want 404 NoSuchUpload", got, err)
					}
					if after1 == "404 NotFound" || after3 == "404 NotFound" {
						t.Errorf("forwarded Complete left no object: %s / %s", after1, after3)
					}
				default:
					if err != nil {
						t.Errorf("3 attempts: %v, want recovery", err)
					}
					if op == CopyObject && after3 != srcETag {
						t.Errorf("copy ETag %s, want %s", after3, srcETag)
					}
				}
			})
		}
	}
}

// TestMinIOLostResponses: a request the server carried out but whose
// response was lost (ResetAfterForward) is retried by the SDK. For
// CreateMultipartUpload the retry starts a second upload and the first is
// orphaned: only listing the key's uploads finds it. For
// CompleteMultipartUpload the retry finds the upload already completed.
func TestMinIOLostResponses(t *testing.T) {
	srv := s3test.A(t)
	bucket := srv.Bucket(t, false)
	direct := srv.Client(t)
	ctx := context.Background()
	cfg := Config{Ops: map[Op]Rates{CreateMultipartUpload: {ResetAfterForward: 1}, CompleteMultipartUpload: {ResetAfterForward: 1}},
		MaxFaultsPerRequest: 1}
	p, c := proxied(t, srv, cfg, func(tu *s3client.Tuning) { tu.MaxAttempts = 3 })
	key := "lost"
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key}, fastRetries)
	if err != nil {
		t.Fatalf("CreateMultipartUpload with one lost response: %v", err)
	}
	list, err := direct.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket, Prefix: &key})
	if err != nil {
		t.Fatal(err)
	}
	var orphans []string
	for _, u := range list.Uploads {
		if aws.ToString(u.UploadId) != aws.ToString(up.UploadId) {
			orphans = append(orphans, aws.ToString(u.UploadId))
		}
	}
	if len(list.Uploads) != 2 || len(orphans) != 1 {
		t.Errorf("uploads after one lost CreateMultipartUpload response: %d, orphans %d; want 2 and 1", len(list.Uploads), len(orphans))
	}
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(1),
		Body: strings.NewReader("only part"), ContentLength: aws.Int64(9)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}, fastRetries)
	head, herr := direct.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	t.Logf("CompleteMultipartUpload with one lost response → %s; object afterwards: %v %v; proxy:\n%s", describe(err), head != nil, herr, p.Stats())
	if describe(err) != "404 NoSuchUpload" || herr != nil || !strings.HasSuffix(aws.ToString(head.ETag), `-1"`) {
		t.Errorf("retried Complete: %v; object: %v; want NoSuchUpload and a completed 1-part object", err, herr)
	}
}
