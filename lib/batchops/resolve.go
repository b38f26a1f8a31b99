package batchops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3err"
)

// ErrGone is wrapped by Resolve's error when the object (or version) no
// longer exists, or is a delete marker: a per-object outcome to count and
// skip, not a failure of the run.
var ErrGone = errors.New("object no longer exists")

// Resolve fills o for s3://bucket/key (versionID may be empty) with
// HeadObject: ETag, size, mtime and storage class, which a Batch Operations
// manifest or report does not carry and s3pipe's copy tools need (every copy
// is pinned to the source ETag). The version id stays what the caller gave
// (NULL stays NULL: "the current version", pinned by the ETag). Errors other
// than ErrGone are the SDK's, wrapped with the object's name; classify them
// with s3err.Classify.
func Resolve(ctx context.Context, c s3.HeadObjectAPIClient, bucket, key, versionID string, o *record.Object) error {
	in := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	name := "s3://" + bucket + "/" + key
	if versionID != "" {
		in.VersionId = aws.String(versionID)
		name += " (version " + versionID + ")"
	}
	out, err := c.HeadObject(ctx, in)
	if err != nil {
		// A HEAD of a delete marker answers 404 (current version) or 405
		// (the marker's version id named): either way nothing to copy.
		if s3err.IsNotFound(err) || s3err.HTTPStatus(err) == 405 {
			return fmt.Errorf("head %s: %w: %v", name, ErrGone, err)
		}
		return fmt.Errorf("head %s: %w", name, err)
	}
	if aws.ToBool(out.DeleteMarker) {
		return fmt.Errorf("head %s: %w: a delete marker", name, ErrGone)
	}
	*o = record.Object{
		Key:       key,
		ETag:      strings.Trim(aws.ToString(out.ETag), `"`),
		Size:      aws.ToInt64(out.ContentLength),
		VersionID: versionID,
		Bucket:    bucket,
		// HeadObject omits x-amz-storage-class for STANDARD; a listing says
		// STANDARD, so say it too.
		StorageClass: string(out.StorageClass),
	}
	if o.StorageClass == "" {
		o.StorageClass = "STANDARD"
	}
	if out.LastModified != nil {
		o.MTime = out.LastModified.UTC()
	}
	return nil
}
