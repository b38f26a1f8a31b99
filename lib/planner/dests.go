package planner

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3pipe/s3pipe/lib/props"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3err"
)

// aclAPI reads a source version's ACL (copy in place with --acl copy).
type aclAPI interface {
	GetObjectAcl(context.Context, *s3.GetObjectAclInput, ...func(*s3.Options)) (*s3.GetObjectAclOutput, error)
}

// dests is every destination bucket of a row: the primary one, then the
// fan-out ones (Planner.Also) in flag order.
func (pl *Planner) dests(primary string) []string {
	return append([]string{primary}, pl.Also...)
}

// inPlaceBase points a row at its own source (copy in place) and marks it
// so that s3copy copies it server-side onto itself with the marker.
func (pl *Planner) inPlaceBase(base *record.Plan) {
	if pl.InPlace == nil {
		return
	}
	base.DstBucket = base.SrcBucket
	base.Note = pl.InPlace.Note("")
}

// PlanDests plans one input row for every destination: the rows of one
// object for all destinations are adjacent (object: one row per
// destination; multipart: part 1 for each destination, then part 2 ...),
// so s3copy can read each source range once and write it to all of them.
//
// A report row (a re-drive) names its destination: it is planned for that
// destination only, so a failure at one destination is not copied again to
// the others.
func (pl *Planner) PlanDests(ctx context.Context, in *Input) ([]record.Plan, error) {
	if r := in.Report; r != nil && len(pl.Also) > 0 && r.DstBucket != "" {
		if !slices.Contains(pl.dests(pl.DstBucket), r.DstBucket) {
			return pl.fail(record.Plan{Key: r.Key, ETag: r.SrcETag, Size: r.Size, MTime: r.MTime, StorageClass: r.StorageClass,
				VersionID: r.VersionID, SrcBucket: r.Bucket, DstBucket: r.DstBucket, Length: r.Size, Verify: record.VerifySize},
				"UnknownDestination", "report row's destination is neither --dst-bucket nor an --also-dst"), nil
		}
		one := *pl
		one.DstBucket, one.Also = r.DstBucket, nil
		return one.Plan(ctx, in)
	}
	rows, err := pl.Plan(ctx, in)
	if err != nil || len(pl.Also) == 0 || len(rows) != 1 {
		// Part rows come per destination from uploadRows already.
		return rows, err
	}
	out := make([]record.Plan, 0, 1+len(pl.Also))
	out = append(out, rows[0])
	for _, b := range pl.Also {
		r := rows[0]
		r.DstBucket = b
		out = append(out, r)
	}
	return out, nil
}

// uploadRows starts the destination upload(s) of a multipart object and
// returns its part rows, interleaved across destinations. A destination
// whose upload cannot be started gets one fail row; the others go on.
func (pl *Planner) uploadRows(ctx context.Context, base record.Plan, parts []int64, head *s3.HeadObjectOutput, dp props.Props, verify string, newParts bool) ([]record.Plan, error) {
	note := ""
	if newParts {
		note = "new parts: destination ETag differs by design"
	}
	create := &s3.CreateMultipartUploadInput{Key: aws.String(base.Key)}
	if ip := pl.InPlace; ip != nil {
		ip.Mark(&dp)
		note = ip.Note(note)
		dp.ToCreate(create)
		props.LockFromHead(head).ToCreate(create)
		if ip.CopyACL {
			g, err := pl.grants(ctx, base)
			if err != nil {
				return nil, err
			}
			g.ToCreate(create)
		}
	} else {
		dp.ToCreate(create)
	}
	var rows, failed []record.Plan
	var ids []string
	var buckets []string
	for _, bucket := range pl.dests(base.DstBucket) {
		id := "dry-run"
		if !pl.DryRun {
			in := *create
			in.Bucket = aws.String(bucket)
			started := time.Now()
			out, err := pl.Dst.CreateMultipartUpload(ctx, &in)
			if err != nil {
				err = fmt.Errorf("create multipart upload s3://%s/%s: %w", bucket, base.Key, err)
				if len(pl.Also) == 0 || ctx.Err() != nil || s3err.Classify(err) == s3err.Fatal {
					return nil, err
				}
				b := base
				b.DstBucket = bucket
				failed = append(failed, pl.fail(b, s3err.Code(err), s3err.Message(err))...)
				continue
			}
			id = aws.ToString(out.UploadId)
			if c, ok := pl.Dst.(uploadLister); ok && retried(out.ResultMetadata) {
				abortDuplicates(ctx, c, bucket, base.Key, id, started)
			}
		}
		ids, buckets = append(ids, id), append(buckets, bucket)
	}
	var off int64
	for i, n := range parts {
		for j := range ids {
			r := base
			r.DstBucket = buckets[j]
			r.Action, r.Verify, r.UploadID = record.ActionPart, verify, ids[j]
			r.PartNumber, r.PartCount, r.Offset, r.Length = int32(i+1), int32(len(parts)), off, n
			r.Note = note
			rows = append(rows, r)
		}
		off += n
	}
	return append(failed, rows...), nil
}

// grants is the source version's ACL as x-amz-grant-* values.
func (pl *Planner) grants(ctx context.Context, base record.Plan) (props.Grants, error) {
	a, ok := pl.Src.(aclAPI)
	if !ok {
		return props.Grants{}, fmt.Errorf("get ACL of s3://%s/%s: the source client cannot read ACLs", base.SrcBucket, base.Key)
	}
	acl, err := a.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(base.SrcBucket), Key: aws.String(base.Key), VersionId: opt(base.VersionID)})
	if err != nil {
		return props.Grants{}, fmt.Errorf("get ACL of s3://%s/%s: %w", base.SrcBucket, base.Key, err)
	}
	return props.GrantsFromACL(acl), nil
}
