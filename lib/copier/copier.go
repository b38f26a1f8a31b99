// Package copier owns the copy engine: it turns one plan row (a whole object
// or one part of a multipart upload) into its result row, copying either
// server-side (CopyObject / UploadPartCopy, zero bytes through the host) or
// streamed (a pinned, ranged GET whose body flows through a bounded buffer
// into PutObject / UploadPart). Every source read is pinned to the listed
// ETag, and what a copy carries is decided by package props.
package copier

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/layout"
	"github.com/s3pipe/s3pipe/lib/props"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3err"
)

// API is the part of the S3 client the copier uses.
type API interface {
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	GetObjectTagging(context.Context, *s3.GetObjectTaggingInput, ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	UploadPartCopy(context.Context, *s3.UploadPartCopyInput, ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error)
	ListParts(context.Context, *s3.ListPartsInput, ...func(*s3.Options)) (*s3.ListPartsOutput, error)
}

// Mode chooses how bytes move.
type Mode string

const (
	ModeAuto   Mode = "auto"   // server-side when both sides are one identity; stream when the server refuses
	ModeServer Mode = "server" // server-side only
	ModeStream Mode = "stream" // always through this host
)

// Counter names (group s3copy).
var CounterNames = []string{"rows", "objects", "parts", "bytes", "failed", "skipped", "server_copies", "streamed", "resumed_parts", "retries"}

// SmallObject is the largest object read whole into a per-worker buffer, so
// its PUT is seekable (retried by the SDK) and carries Content-MD5.
const SmallObject = 1 << 20

// Config is the copier's plain-data configuration.
type Config struct {
	Mode Mode
	// SameIdentity: source and destination clients have equal keys, so the
	// destination credentials can read the source (server-side copy).
	SameIdentity bool
	Override     props.Override
	// Attempts bounds the whole GET->PUT retries of one streamed copy.
	Attempts int
	// Backoff is the first retry delay (doubled each attempt).
	Backoff time.Duration
	// Workers sizes the small-object buffer pool (the concurrency).
	Workers int
	// TrustDstEncryption lets a server-side copy of a whole object skip
	// the source HEAD: one request instead of two. CopyObject with the
	// COPY directive keeps content headers, user metadata and tags (and
	// Expires on AWS S3; MinIO drops it); the storage class comes from the
	// plan row; but the copy gets the destination bucket's default
	// encryption (not the source's SSE or KMS key) and no website redirect
	// location. Ignored when the override replaces headers or metadata.
	TrustDstEncryption bool
}

// Copier copies plan rows. It is safe for concurrent use.
type Copier struct {
	cfg     Config
	src     API
	dst     API
	opts    []func(*s3.Options)
	set     *counters.Set
	bufs    chan []byte
	uploads sync.Map // upload id -> *upload
}

// New returns a copier. limiter may be nil.
func New(cfg Config, src, dst API, set *counters.Set, limiter *Limiter) *Copier {
	if cfg.Attempts < 1 {
		cfg.Attempts = 4
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	cfg.Workers = max(cfg.Workers, 1)
	if set == nil {
		set = counters.New("s3copy", CounterNames...)
	}
	c := &Copier{cfg: cfg, src: src, dst: dst, set: set, bufs: make(chan []byte, cfg.Workers)}
	if limiter != nil {
		c.opts = append(c.opts, limiter.Option())
	}
	return c
}

// Fatal wraps an error that must stop the run.
type Fatal struct{ Err error }

func (e *Fatal) Error() string { return e.Err.Error() }
func (e *Fatal) Unwrap() error { return e.Err }

// Copy performs one plan row and returns its result row. It never fails
// without a row: errors are in the row. When the error is fatal for the run
// (s3err.Classify) it is also returned, wrapped in *Fatal.
func (c *Copier) Copy(ctx context.Context, p *record.Plan) (record.Result, error) {
	r := record.Result{Plan: *p}
	c.set.Inc("rows")
	switch p.Action {
	case record.ActionSkip:
		r.Status, r.Message = record.StatusSkipped, p.Note
		c.set.Inc("skipped")
		return r, nil
	case record.ActionFail:
		r.Status = record.StatusFailed
		r.ErrorCode, r.Message = splitNote(p.Note)
		c.set.Inc("failed")
		return r, nil
	case record.ActionCopy:
		c.set.Inc("objects")
	case record.ActionPart:
		c.set.Inc("parts")
	}
	err := c.copy(ctx, &r)
	if err == nil {
		r.Status = record.StatusOK
		c.set.Add("bytes", p.Length)
		return r, nil
	}
	c.set.Inc("failed")
	r.Status, r.Proof, r.DstETag, r.DstVersionID = record.StatusFailed, "", "", ""
	r.ErrorCode, r.HTTPStatus, r.Message = s3err.Code(err), int32(s3err.HTTPStatus(err)), oneLine(err.Error())
	switch {
	case ctx.Err() != nil:
		r.ErrorCode, r.HTTPStatus = "Interrupted", 0
		return r, nil
	case s3err.IsPreconditionFailed(err):
		r.ErrorCode, r.HTTPStatus, r.Message = "PreconditionFailed", 412, "source changed since listing"
	case errors.Is(err, ErrDigest):
		r.ErrorCode = "BadDigest"
	case errors.Is(err, ErrTruncated):
		r.ErrorCode = "IncompleteBody"
	case errors.Is(err, errETagMismatch):
		r.ErrorCode = "ETagMismatch"
	case errors.Is(err, errSize):
		r.ErrorCode = "SizeMismatch"
	case errors.Is(err, errChecksum):
		r.ErrorCode = "ChecksumUnavailable"
	case errors.Is(err, errTooLarge):
		r.ErrorCode = "EntityTooLarge" // S3's code for the same refusal
	}
	if s3err.Classify(err) == s3err.Fatal {
		return r, &Fatal{Err: fmt.Errorf("%s: %w", what(p), err)}
	}
	return r, nil
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s)
}

// splitNote reads a planning failure note "<code>: <message>".
func splitNote(note string) (code, msg string) {
	if c, m, ok := strings.Cut(note, ": "); ok && c != "" && !strings.ContainsAny(c, " \t") {
		return c, m
	}
	return "PlanFailed", note
}

var (
	errETagMismatch = errors.New("destination ETag differs from the source")
	errSize         = errors.New("source size differs from the plan")
	errTooLarge     = errors.New("copy row too large")
	errChecksum     = errors.New("cannot compute the part checksum of a streamed part")
)

func what(p *record.Plan) string {
	if p.Action == record.ActionPart {
		return fmt.Sprintf("copy part %d of s3://%s/%s", p.PartNumber, p.SrcBucket, p.Key)
	}
	return fmt.Sprintf("copy s3://%s/%s", p.SrcBucket, p.Key)
}

func (c *Copier) copy(ctx context.Context, r *record.Result) error {
	p := &r.Plan
	if p.SrcBucket == "" || p.DstBucket == "" {
		return fmt.Errorf("%s: plan row has no source or destination bucket", what(p))
	}
	if p.Action == record.ActionCopy && p.Length > layout.MaxSinglePut {
		return fmt.Errorf("%s: %w: %d bytes is over the 5 GiB single-request limit; plan it in parts with s3mpplan", what(p), errTooLarge, p.Length)
	}
	var algo string
	if p.Action == record.ActionPart {
		u := c.upload(ctx, p)
		if part, ok := u.parts[p.PartNumber]; ok && aws.ToInt64(part.Size) == p.Length {
			r.DstETag, r.Message = strings.Trim(aws.ToString(part.ETag), `"`), "already uploaded"
			c.set.Inc("resumed_parts")
			return nil
		}
		algo = u.algo
	}
	if done, err := c.inPlace(ctx, r, algo); done {
		return err
	}
	server := c.cfg.Mode == ModeServer || (c.cfg.Mode == ModeAuto && c.cfg.SameIdentity)
	if server {
		err := c.serverCopy(ctx, r, algo)
		if err == nil {
			c.set.Inc("server_copies")
			return nil
		}
		if c.cfg.Mode != ModeAuto || !(refused(err) || algo != "" && s3err.Code(err) == "InvalidArgument") {
			// MinIO cannot UploadPartCopy into an upload with a checksum
			// algorithm (InvalidArgument "checksum missing"); a streamed
			// part carries the source part's checksum.
			return err
		}
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = c.streamCopy(ctx, r, algo)
		if err == nil {
			c.set.Inc("streamed")
			return nil
		}
		if attempt >= c.cfg.Attempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		c.set.Inc("retries")
		t := time.NewTimer(c.cfg.Backoff << (attempt - 1))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// refused: the server will not copy server-side, but a stream may work.
func refused(err error) bool {
	switch s3err.Code(err) {
	case "AccessDenied", "NotImplemented", "XNotImplemented":
		return true
	}
	return false
}

func retryable(err error) bool {
	if errors.Is(err, ErrDigest) || errors.Is(err, errChecksum) || errors.Is(err, errSize) || errors.Is(err, errETagMismatch) || s3err.IsPreconditionFailed(err) || s3err.IsNotFound(err) {
		return false
	}
	if errors.Is(err, ErrTruncated) {
		return true
	}
	switch s3err.Code(err) {
	case "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeTooSkewed", "ClientError", "Timeout", "IncompleteBody":
		return true
	}
	return s3err.HTTPStatus(err) >= 500
}

func quote(etag string) *string {
	if strings.HasPrefix(etag, `"`) {
		return aws.String(etag)
	}
	return aws.String(`"` + etag + `"`)
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func unquote(s *string) string { return strings.Trim(aws.ToString(s), `"`) }

// srcMD5 is the source's MD5 when its ETag is one (single-part, not SSE-KMS
// or SSE-C), else nil.
func srcMD5(p *record.Plan, src *props.Props) []byte {
	if p.Action != record.ActionCopy || !layout.IsMD5(p.ETag) || !src.ContentDefinedETag() {
		return nil
	}
	b, err := hex.DecodeString(strings.ToLower(strings.Trim(p.ETag, `"`)))
	if err != nil {
		return nil
	}
	return b
}

func (c *Copier) serverCopy(ctx context.Context, r *record.Result, algo string) error {
	p := &r.Plan
	source := CopySource(p.SrcBucket, p.Key, p.VersionID)
	if p.Action == record.ActionPart {
		in := &s3.UploadPartCopyInput{Bucket: aws.String(p.DstBucket), Key: aws.String(p.Key), UploadId: aws.String(p.UploadID),
			PartNumber: aws.Int32(p.PartNumber), CopySource: aws.String(source), CopySourceIfMatch: quote(p.ETag)}
		if p.Length > 0 {
			in.CopySourceRange = aws.String(fmt.Sprintf("bytes=%d-%d", p.Offset, p.Offset+p.Length-1))
		}
		out, err := c.dst.UploadPartCopy(ctx, in, c.opts...)
		if err != nil {
			return fmt.Errorf("%s server-side: %w", what(p), err)
		}
		if out.CopyPartResult != nil {
			r.DstETag = unquote(out.CopyPartResult.ETag)
		}
		r.Proof = record.ProofServer
		_ = algo // UploadPartCopy: S3 computes the upload's checksum itself
		return nil
	}
	if c.cfg.TrustDstEncryption && !c.cfg.Override.ReplacesHeaders() {
		return c.directCopy(ctx, r, source)
	}
	head, err := c.headWhole(ctx, p)
	if err != nil {
		return err
	}
	src := props.FromHead(head)
	dst := c.cfg.Override.Apply(src)
	in := &s3.CopyObjectInput{Bucket: aws.String(p.DstBucket), Key: aws.String(p.Key), CopySource: aws.String(source), CopySourceIfMatch: quote(p.ETag)}
	dst.ToCopy(in, c.cfg.Override.Tagging != nil)
	out, err := c.dst.CopyObject(ctx, in, c.opts...)
	if err != nil {
		return fmt.Errorf("%s server-side: %w", what(p), err)
	}
	if out.CopyObjectResult != nil {
		r.DstETag = unquote(out.CopyObjectResult.ETag)
	}
	r.DstVersionID = aws.ToString(out.VersionId)
	return c.verifyWhole(r, &src, &dst, record.ProofServer)
}

// headSource HEADs the source pinned to the listed ETag (and version).
func (c *Copier) headSource(ctx context.Context, p *record.Plan) (*s3.HeadObjectOutput, error) {
	head, err := c.dst.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(p.SrcBucket), Key: aws.String(p.Key),
		VersionId: opt(p.VersionID), IfMatch: quote(p.ETag), ChecksumMode: types.ChecksumModeEnabled}, c.opts...)
	if code := s3err.Code(err); code == "Forbidden" || code == "NotFound" {
		// A HEAD's 403/404 has no body, hence no S3 code: one request with
		// a body tells bad credentials or a missing bucket (fatal) from one
		// object's denial or absence.
		_, perr := c.dst.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(p.SrcBucket), Key: aws.String(p.Key)}, c.opts...)
		if perr != nil && s3err.Classify(perr) == s3err.Fatal {
			err = fmt.Errorf("%s: %w", code, perr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("head s3://%s/%s: %w", p.SrcBucket, p.Key, err)
	}
	return head, nil
}

// directCopy is a whole-object server-side copy without the source HEAD
// (Config.TrustDstEncryption): the server copies headers, metadata and tags
// itself. Only when the ETags then differ is the source HEADed, to tell an
// SSE-KMS/SSE-C source (ETag not an MD5: fine) from a real mismatch.
func (c *Copier) directCopy(ctx context.Context, r *record.Result, source string) error {
	p := &r.Plan
	o := &c.cfg.Override
	in := &s3.CopyObjectInput{Bucket: aws.String(p.DstBucket), Key: aws.String(p.Key), CopySource: aws.String(source),
		CopySourceIfMatch: quote(p.ETag), MetadataDirective: types.MetadataDirectiveCopy, TaggingDirective: types.TaggingDirectiveCopy}
	class := p.StorageClass
	if o.StorageClass != "" {
		class = o.StorageClass
	}
	if class != "" && class != string(types.StorageClassStandard) {
		in.StorageClass = types.StorageClass(class)
	}
	if o.SSE != "" && o.SSE != "none" {
		d := o.Apply(props.Props{})
		in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryption(d.SSE), opt(d.SSEKMSKeyID)
	}
	if o.Tagging != nil {
		in.TaggingDirective, in.Tagging = types.TaggingDirectiveReplace, opt(*o.Tagging)
	}
	out, err := c.dst.CopyObject(ctx, in, c.opts...)
	if err != nil {
		return fmt.Errorf("%s server-side: %w", what(p), err)
	}
	if out.CopyObjectResult != nil {
		r.DstETag = unquote(out.CopyObjectResult.ETag)
	}
	r.DstVersionID = aws.ToString(out.VersionId)
	dst := props.Props{SSE: string(out.ServerSideEncryption)}
	src := props.Props{}
	if p.Verify == record.VerifyETag && !strings.EqualFold(r.DstETag, strings.Trim(p.ETag, `"`)) && dst.ContentDefinedETag() {
		head, err := c.headSource(ctx, p)
		if err != nil {
			return err
		}
		src = props.FromHead(head)
	}
	return c.verifyWhole(r, &src, &dst, record.ProofServer)
}

// verifyWhole settles a whole-object copy's proof. With Verify etag and
// content-defined ETags on both sides, the ETags must be equal; when either
// side is SSE-KMS/SSE-C the row is downgraded to Verify size (s3mpplan marks
// 32-hex ETags etag without a HEAD; the source's encryption is learned here).
func (c *Copier) verifyWhole(r *record.Result, src, dst *props.Props, fallback string) error {
	p := &r.Plan
	if p.Verify == record.VerifyETag && (!src.ContentDefinedETag() || !dst.ContentDefinedETag()) {
		r.Verify = record.VerifySize
	}
	if r.Verify == record.VerifyETag {
		if !strings.EqualFold(r.DstETag, strings.Trim(p.ETag, `"`)) {
			return fmt.Errorf("%s: %w: source %s, destination %s", what(p), errETagMismatch, p.ETag, r.DstETag)
		}
		r.Proof = record.ProofETag
		return nil
	}
	r.Proof = fallback
	return nil
}

// get opens the pinned source read of a plan row: the whole object (with
// ChecksumMode, so the source's additional checksum and its algorithm are
// known), a byte range, or — when byPart — the source part with the same
// number (its boundaries reproduced), which S3 answers with that part's
// checksum.
func (c *Copier) get(ctx context.Context, p *record.Plan, ranged, byPart bool) (*s3.GetObjectOutput, error) {
	if out, ok, err := c.shared(ctx, p, ranged, byPart); ok {
		return out, err // fan-out: one read of the source feeds every destination
	}
	in := &s3.GetObjectInput{Bucket: aws.String(p.SrcBucket), Key: aws.String(p.Key), VersionId: opt(p.VersionID), IfMatch: quote(p.ETag)}
	switch {
	case byPart:
		in.PartNumber, in.ChecksumMode = aws.Int32(p.PartNumber), types.ChecksumModeEnabled
	case ranged && p.Length > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", p.Offset, p.Offset+p.Length-1))
	case !ranged:
		in.ChecksumMode = types.ChecksumModeEnabled
	}
	out, err := c.src.GetObject(ctx, in, c.opts...)
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", p.SrcBucket, p.Key, err)
	}
	n := aws.ToInt64(out.ContentLength)
	if !ranged && n != p.Size || ranged && p.Length > 0 && n != p.Length {
		out.Body.Close()
		return nil, fmt.Errorf("get s3://%s/%s: %w: %d bytes, plan says %d", p.SrcBucket, p.Key, errSize, n, p.Length)
	}
	if want := fmt.Sprintf("bytes %d-%d/%d", p.Offset, p.Offset+p.Length-1, p.Size); byPart && aws.ToString(out.ContentRange) != want {
		out.Body.Close()
		return nil, fmt.Errorf("get part %d of s3://%s/%s: %w: range %q, plan says %q", p.PartNumber, p.SrcBucket, p.Key, errSize, aws.ToString(out.ContentRange), want)
	}
	return out, nil
}

// sourceChecksum is the source's checksum value for algo from a GET, when
// it is a value of exactly the bytes read (not a composite "<value>-N" of a
// whole multipart object): sent with the PUT, S3 checks the copy against
// the source's own checksum, and the SDK need not compute one (which it
// cannot do for an unseekable body without TLS).
func sourceChecksum(algo string, g *s3.GetObjectOutput) string {
	var v *string
	switch types.ChecksumAlgorithm(algo) {
	case types.ChecksumAlgorithmCrc32:
		v = g.ChecksumCRC32
	case types.ChecksumAlgorithmCrc32c:
		v = g.ChecksumCRC32C
	case types.ChecksumAlgorithmCrc64nvme:
		v = g.ChecksumCRC64NVME
	case types.ChecksumAlgorithmSha1:
		v = g.ChecksumSHA1
	case types.ChecksumAlgorithmSha256:
		v = g.ChecksumSHA256
	}
	if s := aws.ToString(v); s != "" && !strings.Contains(s, "-") {
		return s
	}
	return ""
}

// checksumFields points at the checksum value fields of a request.
type checksumFields struct{ crc32, crc32c, crc64, sha1, sha256 **string }

func (f checksumFields) set(algo, value string) {
	if value == "" {
		return
	}
	switch types.ChecksumAlgorithm(algo) {
	case types.ChecksumAlgorithmCrc32:
		*f.crc32 = aws.String(value)
	case types.ChecksumAlgorithmCrc32c:
		*f.crc32c = aws.String(value)
	case types.ChecksumAlgorithmCrc64nvme:
		*f.crc64 = aws.String(value)
	case types.ChecksumAlgorithmSha1:
		*f.sha1 = aws.String(value)
	case types.ChecksumAlgorithmSha256:
		*f.sha256 = aws.String(value)
	}
}

// streamOpts: an unseekable body cannot be signed over plain HTTP nor
// rewound for a retry, so the payload is sent unsigned (TLS protects it on
// https; our MD5 and byte count check it everywhere) and the SDK makes one
// attempt — the caller retries the whole GET->PUT.
func (c *Copier) streamOpts() []func(*s3.Options) {
	return append(append([]func(*s3.Options){}, c.opts...), func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
		o.RetryMaxAttempts = 1
	})
}

func (c *Copier) streamCopy(ctx context.Context, r *record.Result, algo string) error {
	p := &r.Plan
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if p.Action == record.ActionPart {
		// An upload with a checksum algorithm needs each part's checksum;
		// when the source's parts are reproduced, the source has it.
		byPart := algo != "" && int(p.PartCount) == layout.ETagParts(p.ETag)
		out, err := c.get(ctx, p, true, byPart)
		if err != nil {
			return err
		}
		defer out.Body.Close()
		body := newVerifyReader(out.Body, p.Length, nil)
		in := &s3.UploadPartInput{Bucket: aws.String(p.DstBucket), Key: aws.String(p.Key),
			UploadId: aws.String(p.UploadID), PartNumber: aws.Int32(p.PartNumber), ContentLength: aws.Int64(p.Length),
			Body: body, ChecksumAlgorithm: types.ChecksumAlgorithm(algo)}
		sum := sourceChecksum(algo, out)
		checksumFields{&in.ChecksumCRC32, &in.ChecksumCRC32C, &in.ChecksumCRC64NVME, &in.ChecksumSHA1, &in.ChecksumSHA256}.set(algo, sum)
		up, err := c.dst.UploadPart(ctx, in, c.streamOpts()...)
		if err != nil && sum == "" && algo != "" && strings.Contains(err.Error(), "unseekable stream is not supported") {
			// The SDK computes a streamed part's checksum only as a trailer,
			// which it sends over TLS only; without the source part's own
			// checksum (new part boundaries) there is no way over http.
			err = fmt.Errorf("%w: the upload wants %s checksums: use an https endpoint or --checksum-algorithm none: %w", errChecksum, algo, err)
		}
		if err != nil {
			return fmt.Errorf("upload part %d of s3://%s/%s: %w", p.PartNumber, p.DstBucket, p.Key, err)
		}
		if !body.Done() {
			return fmt.Errorf("upload part %d of s3://%s/%s: %w", p.PartNumber, p.DstBucket, p.Key, ErrTruncated)
		}
		r.DstETag = unquote(up.ETag)
		if !strings.HasPrefix(string(up.ServerSideEncryption), "aws:kms") && aws.ToString(up.SSECustomerAlgorithm) == "" {
			if !strings.EqualFold(r.DstETag, body.Sum()) {
				return fmt.Errorf("upload part %d of s3://%s/%s: %w: part ETag %s, streamed MD5 %s", p.PartNumber, p.DstBucket, p.Key, errETagMismatch, r.DstETag, body.Sum())
			}
			// The part's ETag is the MD5 of exactly the bytes read from the
			// pinned source range.
			r.Proof = record.ProofETag
		} else if sum != "" {
			// S3 accepted the part against the source part's checksum.
			r.Proof = record.ProofChecksum
		}
		return nil
	}
	out, err := c.get(ctx, p, false, false)
	if err != nil {
		return err
	}
	defer out.Body.Close()
	src := props.FromGet(out)
	if src.NeedTags() && c.cfg.Override.Tagging == nil {
		vid := aws.ToString(out.VersionId)
		if vid == "" {
			vid = p.VersionID
		}
		tags, err := c.src.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(p.SrcBucket), Key: aws.String(p.Key), VersionId: opt(vid)}, c.opts...)
		if err != nil {
			return fmt.Errorf("get tags of s3://%s/%s: %w", p.SrcBucket, p.Key, err)
		}
		src.SetTags(tags.TagSet)
	}
	dst := c.cfg.Override.Apply(src)
	want := srcMD5(p, &src)
	in := &s3.PutObjectInput{Bucket: aws.String(p.DstBucket), Key: aws.String(p.Key), ContentLength: aws.Int64(p.Length)}
	dst.ToPut(in)
	var checked string // the source checksum S3 checks the copy against
	if dst.ChecksumAlgorithm == src.ChecksumAlgorithm {
		checked = sourceChecksum(dst.ChecksumAlgorithm, out)
		checksumFields{&in.ChecksumCRC32, &in.ChecksumCRC32C, &in.ChecksumCRC64NVME, &in.ChecksumSHA1, &in.ChecksumSHA256}.set(dst.ChecksumAlgorithm, checked)
	}
	var sum string
	var putErr error
	var put *s3.PutObjectOutput
	if p.Length <= SmallObject {
		buf := c.buffer(p.Length)
		defer c.release(buf)
		b := buf[:p.Length]
		if _, err := io.ReadFull(out.Body, b); err != nil {
			return fmt.Errorf("get s3://%s/%s: %w: %v", p.SrcBucket, p.Key, ErrTruncated, err)
		}
		d := md5.Sum(b)
		if want != nil && !bytes.Equal(d[:], want) {
			return fmt.Errorf("get s3://%s/%s: %w", p.SrcBucket, p.Key, ErrDigest)
		}
		sum = hex.EncodeToString(d[:])
		in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(d[:]))
		in.Body = bytes.NewReader(b)
		put, putErr = c.dst.PutObject(ctx, in, c.opts...)
	} else {
		body := newVerifyReader(out.Body, p.Length, want)
		if want != nil {
			// S3 checks the body against it too.
			in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(want))
		}
		in.Body = body
		put, putErr = c.dst.PutObject(ctx, in, c.streamOpts()...)
		if putErr == nil && !body.Done() {
			putErr = ErrTruncated
		}
		sum = body.Sum()
	}
	if putErr != nil {
		return fmt.Errorf("put s3://%s/%s: %w", p.DstBucket, p.Key, putErr)
	}
	r.DstETag, r.DstVersionID = unquote(put.ETag), aws.ToString(put.VersionId)
	if dst.ContentDefinedETag() && !strings.HasPrefix(string(put.ServerSideEncryption), "aws:kms") && !strings.EqualFold(r.DstETag, sum) {
		return fmt.Errorf("put s3://%s/%s: %w: destination ETag %s, streamed MD5 %s", p.DstBucket, p.Key, errETagMismatch, r.DstETag, sum)
	}
	proof := ""
	switch {
	case checked != "":
		proof = record.ProofChecksum
	case in.ContentMD5 != nil:
		proof = record.ProofContentMD5
	}
	return c.verifyWhole(r, &src, &dst, proof)
}

// buffer returns a pooled buffer of at least n (<= SmallObject) bytes.
// Buffers grow in powers of two from 64 KiB as objects need, so a run of
// small objects holds concurrency × their size, not × 1 MiB.
func (c *Copier) buffer(n int64) []byte {
	var b []byte
	select {
	case b = <-c.bufs:
	default:
	}
	if b != nil && int64(cap(b)) >= n {
		return b[:cap(b)]
	}
	size := int64(64 << 10)
	for size < n {
		size *= 2
	}
	return make([]byte, min(size, SmallObject))
}

func (c *Copier) release(b []byte) {
	select {
	case c.bufs <- b:
	default:
	}
}

// upload is what ListParts told about one destination upload, fetched once.
type upload struct {
	once  sync.Once
	parts map[int32]types.Part
	algo  string
}

// upload lists the parts of p's upload once per upload id, so a re-run skips
// parts already uploaded. A failed listing (the upload is gone, or not
// listable) just means nothing is known: the part copy itself then reports
// the real error.
func (c *Copier) upload(ctx context.Context, p *record.Plan) *upload {
	v, _ := c.uploads.LoadOrStore(p.UploadID, &upload{})
	u := v.(*upload)
	u.once.Do(func() {
		u.parts = map[int32]types.Part{}
		if p.UploadID == "dry-run" {
			return
		}
		in := &s3.ListPartsInput{Bucket: aws.String(p.DstBucket), Key: aws.String(p.Key), UploadId: aws.String(p.UploadID)}
		for {
			out, err := c.dst.ListParts(ctx, in, c.opts...)
			if err != nil {
				return
			}
			u.algo = string(out.ChecksumAlgorithm)
			for _, part := range out.Parts {
				u.parts[aws.ToInt32(part.PartNumber)] = part
			}
			if !aws.ToBool(out.IsTruncated) || out.NextPartNumberMarker == nil {
				return
			}
			in.PartNumberMarker = out.NextPartNumberMarker
		}
	})
	return u
}

// headWhole HEADs the source of a whole-object row (pinned like every source
// read) and checks it still has the planned size.
func (c *Copier) headWhole(ctx context.Context, p *record.Plan) (*s3.HeadObjectOutput, error) {
	head, err := c.headSource(ctx, p)
	if err != nil {
		return nil, err
	}
	if aws.ToInt64(head.ContentLength) != p.Length {
		return nil, fmt.Errorf("head s3://%s/%s: %w: %d bytes, plan says %d", p.SrcBucket, p.Key, errSize, aws.ToInt64(head.ContentLength), p.Length)
	}
	return head, nil
}
