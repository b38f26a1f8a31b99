// Package complete owns the last step of a copy: collecting s3copy's result
// rows, completing each multipart upload once all its parts are in, checking
// the completed object against its source, aborting uploads that cannot be
// completed, and writing exactly one report row per object. It also owns the
// cleanup of abandoned uploads (cleanup.go).
//
// Memory: single-object rows are reported at once (one row is held back to
// merge adjacent duplicates). Part rows are held per upload only until the
// upload's last part arrives, so memory grows with the uploads still missing
// parts, plus 8 bytes per finished upload (a hash, so that a late duplicate
// part row of a retried task cannot report an object twice).
package complete

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3err"
)

// API is the part of the S3 client the completer calls.
type API interface {
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	ListParts(ctx context.Context, in *s3.ListPartsInput, optFns ...func(*s3.Options)) (*s3.ListPartsOutput, error)
}

// Counter names (group s3mpdone), in report order.
const (
	CounterRows       = "rows"              // result rows read
	CounterObjects    = "objects"           // report rows written
	CounterCopied     = "copied"            // objects reported copied
	CounterSkipped    = "skipped"           // objects reported skipped
	CounterFailed     = "failed"            // objects reported failed
	CounterCompleted  = "uploads_completed" // CompleteMultipartUpload calls that succeeded
	CounterAborted    = "uploads_aborted"   // uploads aborted (failed parts, or cleanup mode)
	CounterKept       = "uploads_kept"      // unfinished uploads left in place for a resumed run
	CounterDuplicates = "duplicates"        // duplicate result rows merged or ignored
	CounterBytes      = "bytes"             // bytes of objects reported copied
	CounterListed     = "uploads_listed"    // cleanup mode: unfinished uploads listed
)

// NewCounters returns the s3mpdone counter set.
func NewCounters() *counters.Set {
	return counters.New("s3mpdone", CounterRows, CounterObjects, CounterCopied, CounterSkipped, CounterFailed,
		CounterCompleted, CounterAborted, CounterKept, CounterDuplicates, CounterBytes, CounterListed)
}

// ProofSize is the proof of a copy whose only check is the destination size
// (parts carried no stronger proof).
const ProofSize = "size"

// Error codes of outcomes that s3mpdone itself decides (S3's own codes pass
// through unchanged).
const (
	CodeETagMismatch = "ETagMismatch"     // completed, but the destination ETag is not the source's
	CodeSizeMismatch = "SizeMismatch"     // completed, but the destination size is not the source's
	CodeIncomplete   = "IncompleteUpload" // input ended before every part's result arrived
	CodePlanFailed   = "PlanFailed"       // s3mpplan could not plan the object
	CodeBadParts     = "InconsistentParts"
)

// Options tune the completer.
type Options struct {
	// KeepFailedUploads leaves the upload of an object with a failed part in
	// place (for a resumed s3copy) instead of aborting it.
	KeepFailedUploads bool
	// AbortIncomplete aborts uploads whose parts did not all arrive. The
	// default keeps them: a killed s3copy leaves missing parts, and a re-run
	// resumes the upload (ListParts) only while it exists. Cleanup mode
	// removes leftovers.
	AbortIncomplete bool
	// Concurrency bounds the completions (and their checks) in flight.
	Concurrency int
}

// Completer turns result rows into report rows. Add is called from one
// goroutine; completions run on up to Concurrency others; emit is called
// with a lock held, never concurrently.
type Completer struct {
	api  API
	opt  Options
	set  *counters.Set
	emit func(*record.Report) error

	uploads map[uploadID]*upload
	done    map[uint64]struct{}
	held    *record.Result // single-object row held back to merge an adjacent duplicate

	g      *errgroup.Group
	ctx    context.Context // the caller's: cancelled = interrupted
	gctx   context.Context // cancelled also by a completion's fatal error
	emitMu sync.Mutex
	failed bool
}

type uploadID struct{ bucket, key, id string }

func (u uploadID) hash() uint64 {
	h := fnv.New64a()
	h.Write([]byte(u.bucket))
	h.Write([]byte{0})
	h.Write([]byte(u.key))
	h.Write([]byte{0})
	h.Write([]byte(u.id))
	return h.Sum64()
}

type partState uint8

const (
	partMissing partState = iota
	partOK
	partFailed
)

type part struct {
	state  partState
	etag   string
	proof  string
	length int64
	fail   *failure
}

type failure struct {
	code    string
	status  int32
	message string
}

type upload struct {
	plan  record.Plan // the first row's plan; the part columns are not used
	parts []part      // index = part number - 1
	have  int32       // part numbers with a result
	// conflicts holds every ETag seen for a part reported ok more than once
	// with different ETags (a retried task uploaded it again).
	conflicts map[int32][]string
}

// New returns a Completer that reports through emit. Call Finish at end of
// input.
func New(ctx context.Context, api API, opt Options, set *counters.Set, emit func(*record.Report) error) *Completer {
	if opt.Concurrency < 1 {
		opt.Concurrency = 1
	}
	// Completions run under a context that an interrupt (ctx) does not
	// cancel: a completion in flight is short and its outcome is worth
	// recording. Only a fatal error of a completion cancels the others.
	g, gctx := errgroup.WithContext(context.WithoutCancel(ctx))
	g.SetLimit(opt.Concurrency)
	return &Completer{api: api, opt: opt, set: set, emit: emit, uploads: map[uploadID]*upload{},
		done: map[uint64]struct{}{}, g: g, ctx: ctx, gctx: gctx}
}

// Failed reports whether any object was reported failed so far.
func (c *Completer) Failed() bool {
	c.emitMu.Lock()
	defer c.emitMu.Unlock()
	return c.failed
}

// InFlight is the number of uploads still waiting for parts.
func (c *Completer) InFlight() int { return len(c.uploads) }

// Add takes one result row. It returns a fatal error (or the first fatal
// error of a completion running in the background); an error wrapping
// ErrInput is a bad row.
func (c *Completer) Add(r *record.Result) error {
	if err := c.gctx.Err(); err != nil {
		return c.wait(err)
	}
	if err := c.ctx.Err(); err != nil {
		return err // interrupted: the caller calls Finish
	}
	c.set.Inc(CounterRows)
	if r.Action != record.ActionPart {
		return c.addSingle(r)
	}
	if err := c.flushHeld(); err != nil {
		return err
	}
	return c.addPart(r)
}

// ErrInput marks a row that contradicts earlier rows.
var ErrInput = errors.New("inconsistent input")

func sameObject(a, b *record.Result) bool {
	return a.Action == b.Action && a.Key == b.Key && a.SrcBucket == b.SrcBucket && a.VersionID == b.VersionID &&
		a.DstBucket == b.DstBucket && a.ETag == b.ETag
}

// addSingle reports a whole-object row, holding it back by one row so that
// an adjacent duplicate (sorted reducer input from a retried task) merges
// into one report row: a copied row wins over a failed one, otherwise the
// last row wins.
func (c *Completer) addSingle(r *record.Result) error {
	if c.held != nil && sameObject(c.held, r) {
		c.set.Inc(CounterDuplicates)
		if r.Status == record.StatusOK || c.held.Status != record.StatusOK {
			*c.held = *r
		}
		return nil
	}
	if err := c.flushHeld(); err != nil {
		return err
	}
	held := *r
	c.held = &held
	return nil
}

func (c *Completer) flushHeld() error {
	if c.held == nil {
		return nil
	}
	r := c.held
	c.held = nil
	rep := singleReport(r)
	return c.report(&rep)
}

// singleReport is the report row of a copy, skip or fail row.
func singleReport(r *record.Result) record.Report {
	rep := reportOf(&r.Plan)
	msg := r.Message
	if msg == "" {
		msg = r.Note
	}
	switch {
	case r.Action == record.ActionSkip || r.Status == record.StatusSkipped:
		rep.Status = record.OutcomeSkipped
		rep.ErrorCode, rep.HTTPStatus, rep.Message = r.ErrorCode, r.HTTPStatus, msg
		rep.DstETag, rep.DstVersionID = r.DstETag, r.DstVersionID
	case r.Action == record.ActionFail:
		rep.Status = record.OutcomeFailed
		rep.ErrorCode, rep.HTTPStatus, rep.Message = r.ErrorCode, r.HTTPStatus, msg
		if rep.ErrorCode == "" {
			rep.ErrorCode = CodePlanFailed
		}
	case r.Status == record.StatusOK:
		rep.Status = record.OutcomeCopied
		rep.DstETag, rep.DstVersionID, rep.Proof = r.DstETag, r.DstVersionID, r.Proof
	default:
		rep.Status = record.OutcomeFailed
		rep.ErrorCode, rep.HTTPStatus, rep.Message = r.ErrorCode, r.HTTPStatus, msg
	}
	return rep
}

func reportOf(p *record.Plan) record.Report {
	return record.Report{Bucket: p.SrcBucket, Key: p.Key, VersionID: p.VersionID, SrcETag: p.ETag, Size: p.Size,
		MTime: p.MTime, StorageClass: p.StorageClass, DstBucket: p.DstBucket}
}

func (c *Completer) addPart(r *record.Result) error {
	id := uploadID{r.DstBucket, r.Key, r.UploadID}
	u := c.uploads[id]
	if u == nil {
		if _, ok := c.done[id.hash()]; ok {
			// A late duplicate of a part of an upload already reported.
			c.set.Inc(CounterDuplicates)
			return nil
		}
		u = &upload{plan: r.Plan, parts: make([]part, r.PartCount)}
		c.uploads[id] = u
	} else if r.PartCount != u.plan.PartCount || r.ETag != u.plan.ETag || r.Size != u.plan.Size {
		return fmt.Errorf("%w: part %d of s3://%s/%s upload %s: part_count %d, etag %s, size %d differ from an earlier row's %d, %s, %d",
			ErrInput, r.PartNumber, r.DstBucket, r.Key, r.UploadID, r.PartCount, r.ETag, r.Size,
			u.plan.PartCount, u.plan.ETag, u.plan.Size)
	}
	p := &u.parts[r.PartNumber-1]
	ok := r.Status == record.StatusOK || (r.Status == record.StatusSkipped && r.DstETag != "")
	next := part{etag: r.DstETag, proof: r.Proof, length: r.Length}
	if ok {
		next.state = partOK
	} else {
		next.state = partFailed
		msg := r.Message
		if msg == "" && r.Status == record.StatusSkipped {
			msg = "part skipped without a destination ETag"
		}
		next.fail = &failure{code: r.ErrorCode, status: r.HTTPStatus, message: msg}
	}
	switch {
	case p.state == partMissing:
		u.have++
		*p = next
	case next.state == partOK && p.state == partOK:
		// The same part uploaded twice: the last upload is the one S3 keeps,
		// unless the rows arrived out of order; ListParts decides at
		// completion when the ETags differ.
		c.set.Inc(CounterDuplicates)
		if next.etag != p.etag {
			if u.conflicts == nil {
				u.conflicts = map[int32][]string{}
			}
			cands := u.conflicts[r.PartNumber]
			if len(cands) == 0 {
				cands = append(cands, p.etag)
			}
			if !slices.Contains(cands, next.etag) {
				cands = append(cands, next.etag)
			}
			u.conflicts[r.PartNumber] = cands
		}
		*p = next
	case next.state == partOK || p.state == partFailed:
		// A part that was uploaded stays in the upload even if a later
		// attempt failed; a later failure replaces an earlier one.
		c.set.Inc(CounterDuplicates)
		*p = next
	default:
		c.set.Inc(CounterDuplicates) // failed after ok: the uploaded part stands
	}
	if u.have < u.plan.PartCount {
		return nil
	}
	delete(c.uploads, id)
	c.done[id.hash()] = struct{}{}
	return c.dispatch(u)
}

func (c *Completer) dispatch(u *upload) error {
	// Go blocks while all workers are busy: backpressure on the input.
	c.g.Go(func() error { return c.finishUpload(c.gctx, u) })
	if err := c.gctx.Err(); err != nil {
		return c.wait(err)
	}
	return nil
}

// wait returns the group's first error (the cause of the cancellation),
// else the caller's cancellation.
func (c *Completer) wait(err error) error {
	if werr := c.g.Wait(); werr != nil {
		return werr
	}
	if cerr := c.ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// Finish reports the held row and every upload still missing parts, and
// waits for all completions. It returns the first fatal error, else the
// caller's context error when interrupted (after recording the work in
// flight).
func (c *Completer) Finish() error {
	if err := c.flushHeld(); err != nil {
		return c.wait(err)
	}
	ids := make([]uploadID, 0, len(c.uploads))
	for id := range c.uploads {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b uploadID) int {
		return strings.Compare(a.bucket+"\x00"+a.key+"\x00"+a.id, b.bucket+"\x00"+b.key+"\x00"+b.id)
	})
	for _, id := range ids {
		u := c.uploads[id]
		delete(c.uploads, id)
		if c.gctx.Err() != nil {
			break
		}
		c.g.Go(func() error { return c.finishUpload(c.gctx, u) })
	}
	return c.wait(nil)
}

func (c *Completer) report(rep *record.Report) error {
	c.emitMu.Lock()
	defer c.emitMu.Unlock()
	c.set.Inc(CounterObjects)
	switch rep.Status {
	case record.OutcomeCopied:
		c.set.Inc(CounterCopied)
		c.set.Add(CounterBytes, rep.Size)
	case record.OutcomeSkipped:
		c.set.Inc(CounterSkipped)
	default:
		c.set.Inc(CounterFailed)
		c.failed = true
	}
	return c.emit(rep)
}

func s3url(bucket, key string) string { return "s3://" + bucket + "/" + key }

// finishUpload decides one upload's outcome, reports it, and returns only
// fatal errors.
func (c *Completer) finishUpload(ctx context.Context, u *upload) error {
	rep, err := c.outcome(ctx, u)
	if err != nil {
		return err
	}
	return c.report(&rep)
}

func (c *Completer) outcome(ctx context.Context, u *upload) (record.Report, error) {
	p := &u.plan
	rep := reportOf(p)
	var firstFail int32
	var sum int64
	for i := range u.parts {
		if u.parts[i].state == partFailed && firstFail == 0 {
			firstFail = int32(i + 1)
		}
		sum += u.parts[i].length
	}
	switch {
	case firstFail != 0 && u.have == p.PartCount && allGone(u.parts):
		// Every failed part failed because the upload no longer exists:
		// s3copy re-ran plan rows of an upload an earlier run completed.
		return c.checkExisting(ctx, u, rep)
	case firstFail != 0:
		f := u.parts[firstFail-1].fail
		rep.Status = record.OutcomeFailed
		rep.ErrorCode, rep.HTTPStatus = f.code, f.status
		rep.Message = fmt.Sprintf("part %d of %d: %s", firstFail, p.PartCount, f.message)
		if u.have < p.PartCount {
			rep.Message += fmt.Sprintf("; incomplete: %d of %d parts", u.have, p.PartCount)
		}
		return rep, c.abortOrKeep(ctx, u, !c.opt.KeepFailedUploads, &rep)
	case u.have < p.PartCount:
		rep.Status = record.OutcomeFailed
		rep.ErrorCode = CodeIncomplete
		rep.Message = fmt.Sprintf("incomplete: %d of %d parts", u.have, p.PartCount)
		return rep, c.abortOrKeep(ctx, u, c.opt.AbortIncomplete, &rep)
	case sum != p.Size:
		rep.Status = record.OutcomeFailed
		rep.ErrorCode = CodeBadParts
		rep.Message = fmt.Sprintf("parts cover %d bytes of a %d-byte object", sum, p.Size)
		return rep, c.abortOrKeep(ctx, u, !c.opt.KeepFailedUploads, &rep)
	}
	if len(u.conflicts) > 0 {
		if err := c.resolveConflicts(ctx, u); err != nil {
			return rep, err
		}
	}
	parts := make([]types.CompletedPart, len(u.parts))
	for i := range u.parts {
		parts[i] = types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: aws.String(quote(u.parts[i].etag))}
	}
	in := &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(p.DstBucket), Key: aws.String(p.Key), UploadId: aws.String(p.UploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}
	out, err := c.api.CompleteMultipartUpload(ctx, in)
	if code := s3err.Code(err); code == "InvalidPart" || code == "InvalidRequest" {
		// An upload created with a checksum algorithm (the source had
		// one) needs every part's checksum; result rows do not carry
		// them, so ask S3 once, only for the uploads that need it.
		if c.addChecksums(ctx, u, in) {
			out, err = c.api.CompleteMultipartUpload(ctx, in)
		}
	}
	if err != nil {
		if s3err.Classify(err) == s3err.Fatal {
			return rep, fmt.Errorf("complete upload %s of %s: %w", p.UploadID, s3url(p.DstBucket, p.Key), err)
		}
		if s3err.Code(err) == "NoSuchUpload" {
			// Completed by an earlier attempt (a retried reducer), or
			// aborted: the destination object decides.
			return c.checkExisting(ctx, u, rep)
		}
		setErr(&rep, err, "complete upload")
		return rep, c.abortOrKeep(ctx, u, !c.opt.KeepFailedUploads, &rep)
	}
	c.set.Inc(CounterCompleted)
	rep.DstETag = unquote(aws.ToString(out.ETag))
	rep.DstVersionID = aws.ToString(out.VersionId)
	return c.verify(ctx, u, rep, false)
}

// verify checks a completed (or previously completed) object against the
// source. For Verify=etag the ETag decides; for Verify=size a HEAD compares
// the size (skipped when the caller has just HEADed).
func (c *Completer) verify(ctx context.Context, u *upload, rep record.Report, headed bool) (record.Report, error) {
	p := &u.plan
	if p.Verify == record.VerifyETag {
		if rep.DstETag != p.ETag {
			rep.Status = record.OutcomeFailed
			rep.ErrorCode = CodeETagMismatch
			rep.Message = fmt.Sprintf("destination ETag %s differs from source ETag %s", rep.DstETag, p.ETag)
			return rep, nil
		}
		rep.Status = record.OutcomeCopied
		rep.Proof = record.ProofETag
		return rep, nil
	}
	if !headed {
		head, err := c.head(ctx, p, rep.DstVersionID)
		if err != nil {
			if s3err.Classify(err) == s3err.Fatal {
				return rep, err
			}
			setErr(&rep, err, "check completed object")
			return rep, nil
		}
		if aws.ToInt64(head.ContentLength) != p.Size {
			rep.Status = record.OutcomeFailed
			rep.ErrorCode = CodeSizeMismatch
			rep.Message = fmt.Sprintf("destination has %d bytes, source %d", aws.ToInt64(head.ContentLength), p.Size)
			return rep, nil
		}
	}
	rep.Status = record.OutcomeCopied
	rep.Proof = partsProof(u.parts)
	return rep, nil
}

func (c *Completer) head(ctx context.Context, p *record.Plan, versionID string) (*s3.HeadObjectOutput, error) {
	in := &s3.HeadObjectInput{Bucket: aws.String(p.DstBucket), Key: aws.String(p.Key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := c.api.HeadObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("head %s: %w", s3url(p.DstBucket, p.Key), err)
	}
	return out, nil
}

// checkExisting decides an upload that S3 no longer knows: if the
// destination object matches the source, an earlier attempt completed it.
func (c *Completer) checkExisting(ctx context.Context, u *upload, rep record.Report) (record.Report, error) {
	p := &u.plan
	head, err := c.head(ctx, p, "")
	if err != nil {
		if s3err.Classify(err) == s3err.Fatal {
			return rep, err
		}
		if s3err.IsNotFound(err) {
			rep.Status = record.OutcomeFailed
			rep.ErrorCode = "NoSuchUpload"
			rep.HTTPStatus = 404
			rep.Message = fmt.Sprintf("upload %s no longer exists and %s is missing", p.UploadID, s3url(p.DstBucket, p.Key))
			return rep, nil
		}
		setErr(&rep, err, "upload "+p.UploadID+" no longer exists")
		return rep, nil
	}
	rep.DstETag = unquote(aws.ToString(head.ETag))
	rep.DstVersionID = aws.ToString(head.VersionId)
	if aws.ToInt64(head.ContentLength) != p.Size {
		rep.Status = record.OutcomeFailed
		rep.ErrorCode = CodeSizeMismatch
		rep.Message = fmt.Sprintf("upload %s no longer exists; destination has %d bytes, source %d",
			p.UploadID, aws.ToInt64(head.ContentLength), p.Size)
		return rep, nil
	}
	rep, err = c.verify(ctx, u, rep, true)
	if rep.Status == record.OutcomeFailed {
		rep.Message = "upload " + p.UploadID + " no longer exists; " + rep.Message
	}
	return rep, err
}

// resolveConflicts picks, for each part reported ok with different ETags,
// the ETag that ListParts confirms; if none is confirmed the last row's ETag
// stays (completion then fails with InvalidPart and the object is reported
// failed, never completed from a wrong part).
func (c *Completer) resolveConflicts(ctx context.Context, u *upload) error {
	p := &u.plan
	in := &s3.ListPartsInput{Bucket: aws.String(p.DstBucket), Key: aws.String(p.Key), UploadId: aws.String(p.UploadID)}
	for {
		out, err := c.api.ListParts(ctx, in)
		if err != nil {
			if s3err.Classify(err) == s3err.Fatal {
				return fmt.Errorf("list parts of upload %s of %s: %w", p.UploadID, s3url(p.DstBucket, p.Key), err)
			}
			return nil // completion will tell
		}
		for _, lp := range out.Parts {
			n := aws.ToInt32(lp.PartNumber)
			cands, ok := u.conflicts[n]
			if !ok || n < 1 || int(n) > len(u.parts) {
				continue
			}
			if et := unquote(aws.ToString(lp.ETag)); slices.Contains(cands, et) {
				u.parts[n-1].etag = et
			}
		}
		if !aws.ToBool(out.IsTruncated) || out.NextPartNumberMarker == nil {
			return nil
		}
		in.PartNumberMarker = out.NextPartNumberMarker
	}
}

// addChecksums fills in each part's additional checksum from ListParts when
// the upload has a checksum algorithm, for parts whose listed ETag is the
// one being completed. It reports whether in changed.
func (c *Completer) addChecksums(ctx context.Context, u *upload, in *s3.CompleteMultipartUploadInput) bool {
	p := &u.plan
	lp := &s3.ListPartsInput{Bucket: aws.String(p.DstBucket), Key: aws.String(p.Key), UploadId: aws.String(p.UploadID)}
	parts := in.MultipartUpload.Parts
	changed := false
	for {
		out, err := c.api.ListParts(ctx, lp)
		if err != nil || out.ChecksumAlgorithm == "" {
			return changed
		}
		if out.ChecksumType != "" {
			in.ChecksumType = out.ChecksumType
		}
		for _, l := range out.Parts {
			n := aws.ToInt32(l.PartNumber)
			if n < 1 || int(n) > len(parts) || unquote(aws.ToString(l.ETag)) != unquote(aws.ToString(parts[n-1].ETag)) {
				continue
			}
			cp := &parts[n-1]
			cp.ChecksumCRC32, cp.ChecksumCRC32C, cp.ChecksumCRC64NVME = l.ChecksumCRC32, l.ChecksumCRC32C, l.ChecksumCRC64NVME
			cp.ChecksumSHA1, cp.ChecksumSHA256 = l.ChecksumSHA1, l.ChecksumSHA256
			changed = true
		}
		if !aws.ToBool(out.IsTruncated) || out.NextPartNumberMarker == nil {
			return changed
		}
		lp.PartNumberMarker = out.NextPartNumberMarker
	}
}

// abortOrKeep aborts the upload when abort is set, noting a failed abort in
// the row's message; otherwise it counts the upload as kept.
func (c *Completer) abortOrKeep(ctx context.Context, u *upload, abort bool, rep *record.Report) error {
	p := &u.plan
	if !abort {
		c.set.Inc(CounterKept)
		rep.Message += "; upload " + p.UploadID + " kept for a resumed run"
		return nil
	}
	_, err := c.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(p.DstBucket), Key: aws.String(p.Key), UploadId: aws.String(p.UploadID)})
	switch {
	case err == nil:
		c.set.Inc(CounterAborted)
		rep.Message += "; upload aborted"
	case s3err.Classify(err) == s3err.Fatal:
		return fmt.Errorf("abort upload %s of %s: %w", p.UploadID, s3url(p.DstBucket, p.Key), err)
	case s3err.Code(err) == "NoSuchUpload":
		rep.Message += "; upload already gone"
	default:
		rep.Message += "; abort upload failed: " + s3err.Message(err)
	}
	return nil
}

// allGone reports whether every failed part failed with NoSuchUpload.
func allGone(parts []part) bool {
	for i := range parts {
		if parts[i].state == partFailed && parts[i].fail.code != "NoSuchUpload" {
			return false
		}
	}
	return true
}

func setErr(rep *record.Report, err error, op string) {
	rep.Status = record.OutcomeFailed
	rep.ErrorCode = s3err.Code(err)
	rep.HTTPStatus = int32(s3err.HTTPStatus(err))
	rep.Message = op + ": " + s3err.Message(err)
}

// partsProof combines the parts' proofs honestly: the weakest one wins, and
// a part without a proof leaves only the size check.
func partsProof(parts []part) string {
	rank := map[string]int{record.ProofETag: 4, record.ProofChecksum: 3, record.ProofContentMD5: 2, record.ProofServer: 1}
	best, bestRank := "", 99
	for i := range parts {
		r, ok := rank[parts[i].proof]
		if !ok {
			return ProofSize
		}
		if r < bestRank {
			best, bestRank = parts[i].proof, r
		}
	}
	switch best {
	case "":
		return ProofSize
	case record.ProofETag:
		// Every part's ETag was its content MD5: as strong as Content-MD5
		// per part, but the object's ETag was not compared.
		return record.ProofContentMD5
	}
	return best
}

func quote(etag string) string {
	if strings.HasPrefix(etag, `"`) {
		return etag
	}
	return `"` + etag + `"`
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }
