// Package planner owns s3mpplan's decisions: which objects are copied whole,
// which are copied in parts (the source's exact boundaries, learned by
// package layout, or new ones), which are skipped, and starting each
// destination multipart upload with the properties package props decides.
// Output follows input order so plans are deterministic.
package planner

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/layout"
	"github.com/s3pipe/s3pipe/lib/props"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3err"
)

// SrcAPI and DstAPI are the calls planning makes on each side.
type SrcAPI interface {
	layout.HeadAPI
	GetObjectTagging(context.Context, *s3.GetObjectTaggingInput, ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
}

// DstAPI starts uploads.
type DstAPI interface {
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
}

// CounterNames (group s3mpplan).
var CounterNames = []string{"objects", "single", "multipart", "parts", "skipped", "failed", "bytes"}

// Planner plans one object at a time; it is safe for concurrent use.
type Planner struct {
	Src       SrcAPI
	Dst       DstAPI
	Override  props.Override
	SrcBucket string
	DstBucket string
	PartSize  int64 // 0 = reproduce the source's parts
	Exact     bool
	DryRun    bool
	HeadConc  int
	Set       *counters.Set

	// Also are more destination buckets (fan-out); Dst must route each
	// call by its bucket (dests.Routed).
	Also []string
	// InPlace plans each object onto itself (DstBucket ignored).
	InPlace *props.InPlace
}

// Input is one input row: an object to plan, or a finished report row.
type Input struct {
	Obj    record.Object
	Report *record.Report // non-nil for a report row
}

// Plan returns the plan rows of one input row. Per-object failures become a
// fail row; only a fatal error (s3err.Classify) is returned.
func (pl *Planner) Plan(ctx context.Context, in *Input) ([]record.Plan, error) {
	pl.Set.Inc("objects")
	o := &in.Obj
	base := record.Plan{Key: o.Key, ETag: strings.Trim(o.ETag, `"`), Size: o.Size, MTime: o.MTime, StorageClass: o.StorageClass,
		VersionID: o.VersionID, SrcBucket: o.Bucket, DstBucket: pl.DstBucket, Length: o.Size, Verify: record.VerifySize}
	if base.SrcBucket == "" {
		base.SrcBucket = pl.SrcBucket
	}
	pl.inPlaceBase(&base)
	skip := func(why string) []record.Plan {
		pl.Set.Inc("skipped")
		base.Action, base.Note = record.ActionSkip, why
		return []record.Plan{base}
	}
	if r := in.Report; r != nil && r.Status != record.OutcomeFailed {
		if r.Status == record.OutcomeCopied {
			return skip("copied in an earlier run"), nil
		}
		return skip(nonEmpty(r.Message, "skipped in an earlier run")), nil
	}
	if o.DeleteMarker {
		return skip("delete marker"), nil
	}
	if base.SrcBucket == "" {
		return pl.fail(base, "NoSourceBucket", "row has no bucket and no --src-bucket was given"), nil
	}
	n := layout.ETagParts(base.ETag)
	newParts := (pl.PartSize > 0 && o.Size > pl.PartSize) || (n == 0 && o.Size > layout.MaxSinglePut)
	if !newParts && (n == 0 || pl.PartSize > 0) {
		// One request. A 32-hex ETag is the MD5 unless the source is
		// SSE-KMS/SSE-C, which only a HEAD would tell: s3copy learns it
		// from the HEAD or GET it makes anyway and downgrades to size.
		pl.Set.Inc("single")
		pl.Set.Add("bytes", o.Size)
		base.Action = record.ActionCopy
		if n == 0 && layout.IsMD5(base.ETag) && pl.Override.DestinationETagIsMD5() {
			base.Verify = record.VerifyETag
		}
		return []record.Plan{base}, nil
	}
	rows, err := pl.multipart(ctx, base, n, newParts)
	if c := s3err.Code(err); c == "Forbidden" || c == "NotFound" {
		// A HEAD's 403/404 has no body, hence no S3 code: bad credentials
		// or a missing bucket would pass for one object's denial or
		// absence. One request with a body tells them apart.
		_, perr := pl.Src.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(base.SrcBucket), Key: aws.String(base.Key)})
		if perr != nil && s3err.Classify(perr) == s3err.Fatal {
			return nil, fmt.Errorf("head s3://%s/%s (%s): %w", base.SrcBucket, base.Key, c, perr)
		}
	}
	if err != nil {
		if ctx.Err() != nil || s3err.Classify(err) == s3err.Fatal {
			return nil, err
		}
		code, msg := s3err.Code(err), s3err.Message(err)
		switch {
		case s3err.IsPreconditionFailed(err):
			code, msg = "PreconditionFailed", "source changed"
		case s3err.IsNotFound(err):
			// A HEAD's 404 has no body, hence no S3 code or message.
			code, msg = "NoSuchKey", "source not found"
		case errors.Is(err, layout.ErrLayout):
			code, msg = "LayoutMismatch", err.Error()
		}
		return pl.fail(base, code, msg), nil
	}
	pl.Set.Inc("multipart")
	pl.Set.Add("parts", int64(len(rows)))
	pl.Set.Add("bytes", o.Size)
	return rows, nil
}

func (pl *Planner) fail(base record.Plan, code, msg string) []record.Plan {
	pl.Set.Inc("failed")
	base.Action, base.Note = record.ActionFail, code+": "+strings.NewReplacer("\n", " ", "\r", " ").Replace(msg)
	return []record.Plan{base}
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (pl *Planner) multipart(ctx context.Context, base record.Plan, n int, newParts bool) ([]record.Plan, error) {
	src := layout.Source{Bucket: base.SrcBucket, Key: base.Key, VersionID: base.VersionID, ETag: base.ETag, Size: base.Size}
	var parts []int64
	var head *s3.HeadObjectOutput
	verify := record.VerifySize
	if newParts {
		h, err := pl.Src.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(src.Bucket), Key: aws.String(src.Key),
			VersionId: opt(src.VersionID), IfMatch: aws.String(`"` + src.ETag + `"`), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			return nil, fmt.Errorf("head %s: %w", src, err)
		}
		if aws.ToInt64(h.ContentLength) != src.Size {
			return nil, fmt.Errorf("head %s: %w: %d bytes, listed %d", src, layout.ErrLayout, aws.ToInt64(h.ContentLength), src.Size)
		}
		head, parts = h, layout.Split(base.Size, pl.PartSize)
	} else {
		l, err := layout.Learn(ctx, pl.Src, src, layout.Options{Exact: pl.Exact, Concurrency: pl.HeadConc})
		if err != nil {
			return nil, err
		}
		head, parts = l.Head, l.Parts
	}
	sp := props.FromHead(head)
	if sp.ChecksumAlgorithm != "" && sp.ChecksumType == "" {
		// A part HEAD tells the part's checksum but not the object's
		// checksum type; the upload must be created FULL_OBJECT when the
		// source is, to end with the same checksum. One more HEAD, only
		// for sources with an additional checksum.
		h, err := pl.Src.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(src.Bucket), Key: aws.String(src.Key),
			VersionId: opt(src.VersionID), IfMatch: aws.String(`"` + src.ETag + `"`), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			return nil, fmt.Errorf("head %s: %w", src, err)
		}
		sp.ChecksumType = checksumType(h)
	}
	if sp.NeedTags() && pl.Override.Tagging == nil {
		// AWS's HEAD has no tag count: ask for the tags of every multipart
		// source (a single-part copy learns the count from its GET).
		t, err := pl.Src.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(src.Bucket), Key: aws.String(src.Key),
			VersionId: opt(nonEmpty(src.VersionID, aws.ToString(head.VersionId)))})
		if err != nil {
			return nil, fmt.Errorf("get tags of %s: %w", src, err)
		}
		sp.SetTags(t.TagSet)
	}
	dp := pl.Override.Apply(sp)
	if !newParts && sp.ContentDefinedETag() && dp.ContentDefinedETag() {
		verify = record.VerifyETag
	}
	return pl.uploadRows(ctx, base, parts, head, dp, verify, newParts)
}

// checksumType is the object's checksum type as S3 reports it, or, from
// servers that do not report it, as its value tells: a composite value of
// a multipart object ends in "-N".
func checksumType(h *s3.HeadObjectOutput) string {
	if h.ChecksumType != "" {
		return string(h.ChecksumType)
	}
	for _, v := range []*string{h.ChecksumCRC32, h.ChecksumCRC32C, h.ChecksumCRC64NVME, h.ChecksumSHA1, h.ChecksumSHA256} {
		if s := aws.ToString(v); s != "" {
			if strings.Contains(s, "-") {
				return string(types.ChecksumTypeComposite)
			}
			return string(types.ChecksumTypeFullObject)
		}
	}
	return ""
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
