package planner

import (
	"context"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
)

// uploadLister is the part of the destination client that finds and aborts
// duplicate uploads. It is optional so that fakes need not implement it.
type uploadLister interface {
	ListMultipartUploads(context.Context, *s3.ListMultipartUploadsInput, ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// retried reports whether the SDK needed more than one attempt.
func retried(md middleware.Metadata) bool {
	r, ok := retry.GetAttemptResults(md)
	return ok && len(r.Results) > 1
}

// clockSkew widens the window of uploads taken as ours: S3's Initiated is
// the server's clock.
const clockSkew = 5 * time.Minute

// abortDuplicates removes uploads of bucket/key started by earlier attempts
// of our own CreateMultipartUpload. CreateMultipartUpload is not
// idempotent: when a response is lost after S3 acted, the SDK's retry starts
// a second upload and the first would be orphaned (and billed) forever.
// Only uploads of exactly this key initiated since the call began (less
// clock skew) are touched; in an s3pipe run one planner owns each key.
// Failures are ignored: `s3mpdone --cleanup` remains the backstop.
func abortDuplicates(ctx context.Context, c uploadLister, bucket, key, keep string, since time.Time) int {
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(key), EncodingType: types.EncodingTypeUrl}
	aborted := 0
	for page := 0; page < 100; page++ {
		out, err := c.ListMultipartUploads(ctx, in)
		if err != nil {
			return aborted
		}
		for _, u := range out.Uploads {
			k, err := url.QueryUnescape(aws.ToString(u.Key))
			if err != nil || k != key || aws.ToString(u.UploadId) == keep {
				continue
			}
			if u.Initiated != nil && u.Initiated.Before(since.Add(-clockSkew)) {
				continue
			}
			if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: u.UploadId}); err == nil {
				aborted++
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return aborted
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
		if in.KeyMarker != nil {
			if k, err := url.QueryUnescape(*in.KeyMarker); err == nil {
				in.KeyMarker = &k
			}
		}
	}
	return aborted
}
