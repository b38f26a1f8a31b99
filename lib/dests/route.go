package dests

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Routed sends each destination-side call to the client of the bucket it
// names. It has the calls s3mpplan (starting uploads, removing duplicate
// ones) and s3mpdone (completing, checking, aborting, cleanup) make on the
// destination side.
type Routed struct {
	C    *Clients
	Opts []func(*s3.Options) // added to every call (e.g. a rate limiter)
}

func (r *Routed) api(bucket *string) *s3.Client { return r.C.For(aws.ToString(bucket)).Client }

func (r *Routed) opts(o []func(*s3.Options)) []func(*s3.Options) {
	if len(r.Opts) == 0 {
		return o
	}
	return append(append([]func(*s3.Options){}, r.Opts...), o...)
}

// CreateMultipartUpload starts an upload at in.Bucket's destination.
func (r *Routed) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, o ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return r.api(in.Bucket).CreateMultipartUpload(ctx, in, r.opts(o)...)
}

// CompleteMultipartUpload completes an upload at in.Bucket's destination.
func (r *Routed) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, o ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return r.api(in.Bucket).CompleteMultipartUpload(ctx, in, r.opts(o)...)
}

// AbortMultipartUpload aborts an upload at in.Bucket's destination.
func (r *Routed) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, o ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	return r.api(in.Bucket).AbortMultipartUpload(ctx, in, r.opts(o)...)
}

// ListMultipartUploads lists uploads at in.Bucket's destination.
func (r *Routed) ListMultipartUploads(ctx context.Context, in *s3.ListMultipartUploadsInput, o ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error) {
	return r.api(in.Bucket).ListMultipartUploads(ctx, in, r.opts(o)...)
}

// ListParts lists an upload's parts at in.Bucket's destination.
func (r *Routed) ListParts(ctx context.Context, in *s3.ListPartsInput, o ...func(*s3.Options)) (*s3.ListPartsOutput, error) {
	return r.api(in.Bucket).ListParts(ctx, in, r.opts(o)...)
}

// HeadObject HEADs an object at in.Bucket's destination.
func (r *Routed) HeadObject(ctx context.Context, in *s3.HeadObjectInput, o ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return r.api(in.Bucket).HeadObject(ctx, in, r.opts(o)...)
}
