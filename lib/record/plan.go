package record

import (
	"errors"
	"fmt"
	"time"

	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Plan actions (column 15).
const (
	ActionCopy = "copy" // copy the whole object in one request (CopyObject, or GET -> PutObject)
	ActionPart = "part" // copy one part into UploadID
	ActionSkip = "skip" // nothing to do; Note says why (passes through to the report)
	ActionFail = "fail" // planning failed; Note holds the error (passes through to the report)
)

// Verify rules (column 14): what the destination must satisfy.
const (
	VerifyETag = "etag" // destination ETag must equal the source ETag
	VerifySize = "size" // ETags are not comparable (SSE-KMS/SSE-C source, new part size): size + checksums
)

// Plan is one unit of copy work: a whole object or one part of a multipart
// upload. Every object that enters s3mpplan yields at least one Plan row, so
// skips and planning failures reach the final report.
type Plan struct {
	Key          string
	ETag         string // source ETag (the pin for If-Match)
	Size         int64  // whole object size
	MTime        time.Time
	StorageClass string
	VersionID    string
	SrcBucket    string
	DstBucket    string
	UploadID     string // empty (NULL) unless Action is part
	PartNumber   int32  // 1-based; 0 (NULL) unless Action is part
	PartCount    int32  // parts in the destination upload; 0 (NULL) unless part
	Offset       int64  // first byte of the part
	Length       int64  // bytes in the part (the object size for copy)
	Verify       string // VerifyETag or VerifySize
	Action       string
	Note         string // skip reason or planning error; empty = NULL
}

// Write appends p as one line.
func (p *Plan) Write(w *tsv.Writer) error {
	p.write(w)
	return w.End()
}

func (p *Plan) write(w *tsv.Writer) {
	w.String(p.Key)
	w.String(p.ETag)
	w.Int(p.Size)
	writeTime(w, p.MTime)
	w.NullString(p.StorageClass)
	w.NullString(p.VersionID)
	w.NullString(p.SrcBucket)
	w.NullString(p.DstBucket)
	w.NullString(p.UploadID)
	writeOptInt(w, int64(p.PartNumber))
	writeOptInt(w, int64(p.PartCount))
	w.Int(p.Offset)
	w.Int(p.Length)
	w.String(p.Verify)
	w.String(p.Action)
	w.NullString(p.Note)
}

func writeOptInt(w *tsv.Writer, n int64) {
	if n == 0 {
		w.Null()
		return
	}
	w.Int(n)
}

// ParsePlan decodes a plan record.
func ParsePlan(f [][]byte, p *Plan) error {
	if len(f) != PlanColumns {
		return &ColumnError{Err: fmt.Errorf("%w: got %d, want %d (plan record)", tsv.ErrFieldCount, len(f), PlanColumns)}
	}
	return parsePlan(f, p)
}

func parsePlan(f [][]byte, p *Plan) error {
	var err error
	if f[0] == nil {
		return colErr(1, "key", errors.New("must not be NULL"))
	}
	p.Key = string(f[0])
	p.ETag = str(f[1])
	if p.Size, err = parseSize(f[2]); err != nil {
		return colErr(3, "size", err)
	}
	if p.MTime, err = parseTime(f[3]); err != nil {
		return colErr(4, "mtime", err)
	}
	p.StorageClass = str(f[4])
	p.VersionID = str(f[5])
	p.SrcBucket = str(f[6])
	p.DstBucket = str(f[7])
	p.UploadID = str(f[8])
	n, err := parseOptInt(f[9], 1, 10000)
	if err != nil {
		return colErr(10, "part_number", fmt.Errorf("want 1..10000 or \\N, got %q", f[9]))
	}
	p.PartNumber = int32(n)
	if n, err = parseOptInt(f[10], 1, 10000); err != nil {
		return colErr(11, "part_count", fmt.Errorf("want 1..10000 or \\N, got %q", f[10]))
	}
	p.PartCount = int32(n)
	if p.Offset, err = parseSize(f[11]); err != nil {
		return colErr(12, "offset", err)
	}
	if p.Length, err = parseSize(f[12]); err != nil {
		return colErr(13, "length", err)
	}
	p.Verify = str(f[13])
	if p.Verify != VerifyETag && p.Verify != VerifySize {
		return colErr(14, "verify", fmt.Errorf("want %s or %s, got %q", VerifyETag, VerifySize, f[13]))
	}
	p.Action = str(f[14])
	switch p.Action {
	case ActionCopy, ActionSkip, ActionFail:
	case ActionPart:
		if p.UploadID == "" || p.PartNumber == 0 || p.PartCount == 0 || p.PartNumber > p.PartCount {
			return colErr(15, "action", errors.New("a part row needs upload_id, part_number and part_count with part_number <= part_count"))
		}
	default:
		return colErr(15, "action", fmt.Errorf("want copy, part, skip or fail, got %q", f[14]))
	}
	if p.Offset+p.Length > p.Size || p.Offset+p.Length < p.Offset {
		return colErr(13, "length", fmt.Errorf("offset %d + length %d exceeds size %d", p.Offset, p.Length, p.Size))
	}
	p.Note = str(f[15])
	return nil
}

// Result statuses (column 17).
const (
	StatusOK      = "ok"
	StatusSkipped = "skipped"
	StatusFailed  = "failed"
)

// Proofs: how a copy's identity with its source was established (result
// column 23, report column 15).
const (
	ProofETag       = "etag"        // destination ETag equals the source ETag, and S3 defines both by content
	ProofContentMD5 = "content-md5" // streamed: MD5 computed while reading, sent as Content-MD5 and checked by S3, bytes counted
	ProofChecksum   = "checksum"    // S3 additional checksum of source and destination agree
	ProofServer     = "server-copy" // server-side copy pinned to the source ETag; sizes agree (ETag not content-defined)
)

// Result is a Plan row after s3copy: the plan plus the outcome.
type Result struct {
	Plan
	Status       string
	DstETag      string
	DstVersionID string
	ErrorCode    string
	HTTPStatus   int32
	Message      string
	Proof        string
}

// Write appends r as one line.
func (r *Result) Write(w *tsv.Writer) error {
	r.Plan.write(w)
	w.String(r.Status)
	w.NullString(r.DstETag)
	w.NullString(r.DstVersionID)
	w.NullString(r.ErrorCode)
	writeOptInt(w, int64(r.HTTPStatus))
	w.NullString(r.Message)
	w.NullString(r.Proof)
	return w.End()
}

// ParseResult decodes a result record.
func ParseResult(f [][]byte, r *Result) error {
	if len(f) != ResultColumns {
		return &ColumnError{Err: fmt.Errorf("%w: got %d, want %d (result record)", tsv.ErrFieldCount, len(f), ResultColumns)}
	}
	if err := parsePlan(f[:PlanColumns], &r.Plan); err != nil {
		return err
	}
	r.Status = str(f[16])
	switch r.Status {
	case StatusOK, StatusSkipped, StatusFailed:
	default:
		return colErr(17, "status", fmt.Errorf("want ok, skipped or failed, got %q", f[16]))
	}
	r.DstETag = str(f[17])
	r.DstVersionID = str(f[18])
	r.ErrorCode = str(f[19])
	n, err := parseOptInt(f[20], 100, 999)
	if err != nil {
		return colErr(21, "http_status", fmt.Errorf("want an HTTP status (100..999) or \\N, got %q", f[20]))
	}
	r.HTTPStatus = int32(n)
	r.Message = str(f[21])
	r.Proof = str(f[22])
	return nil
}

// Report outcomes (column 4).
const (
	OutcomeCopied  = "copied"
	OutcomeSkipped = "skipped"
	OutcomeFailed  = "failed"
)

// Report is the final outcome of one object: exactly one row per object that
// entered s3mpplan. Its first columns follow an S3 Batch Operations
// completion report.
type Report struct {
	Bucket       string // source bucket
	Key          string
	VersionID    string
	Status       string // copied, skipped, failed
	ErrorCode    string
	HTTPStatus   int32
	Message      string
	SrcETag      string
	DstETag      string
	Size         int64
	MTime        time.Time
	StorageClass string
	DstBucket    string
	DstVersionID string
	Proof        string
}

// Write appends r as one line.
func (r *Report) Write(w *tsv.Writer) error {
	w.NullString(r.Bucket)
	w.String(r.Key)
	w.NullString(r.VersionID)
	w.String(r.Status)
	w.NullString(r.ErrorCode)
	writeOptInt(w, int64(r.HTTPStatus))
	w.NullString(r.Message)
	w.String(r.SrcETag)
	w.NullString(r.DstETag)
	w.Int(r.Size)
	writeTime(w, r.MTime)
	w.NullString(r.StorageClass)
	w.NullString(r.DstBucket)
	w.NullString(r.DstVersionID)
	w.NullString(r.Proof)
	return w.End()
}

// ParseReport decodes a report record.
func ParseReport(f [][]byte, r *Report) error {
	if len(f) != ReportColumns {
		return &ColumnError{Err: fmt.Errorf("%w: got %d, want %d (report record)", tsv.ErrFieldCount, len(f), ReportColumns)}
	}
	var err error
	r.Bucket = str(f[0])
	if f[1] == nil {
		return colErr(2, "key", errors.New("must not be NULL"))
	}
	r.Key = string(f[1])
	r.VersionID = str(f[2])
	r.Status = str(f[3])
	switch r.Status {
	case OutcomeCopied, OutcomeSkipped, OutcomeFailed:
	default:
		return colErr(4, "status", fmt.Errorf("want copied, skipped or failed, got %q", f[3]))
	}
	r.ErrorCode = str(f[4])
	n, err := parseOptInt(f[5], 100, 999)
	if err != nil {
		return colErr(6, "http_status", fmt.Errorf("want an HTTP status (100..999) or \\N, got %q", f[5]))
	}
	r.HTTPStatus = int32(n)
	r.Message = str(f[6])
	r.SrcETag = str(f[7])
	r.DstETag = str(f[8])
	if r.Size, err = parseSize(f[9]); err != nil {
		return colErr(10, "size", err)
	}
	if r.MTime, err = parseTime(f[10]); err != nil {
		return colErr(11, "mtime", err)
	}
	r.StorageClass = str(f[11])
	r.DstBucket = str(f[12])
	r.DstVersionID = str(f[13])
	r.Proof = str(f[14])
	return nil
}

// Object returns the object record a report row describes, so failed rows
// can be fed back into s3mpplan to re-drive them.
func (r *Report) Object() Object {
	return Object{Key: r.Key, ETag: r.SrcETag, Size: r.Size, MTime: r.MTime, StorageClass: r.StorageClass,
		VersionID: r.VersionID, Bucket: r.Bucket}
}

// PlanObject returns the object a plan row belongs to.
func (p *Plan) PlanObject() Object {
	return Object{Key: p.Key, ETag: p.ETag, Size: p.Size, MTime: p.MTime, StorageClass: p.StorageClass,
		VersionID: p.VersionID, Bucket: p.SrcBucket}
}
