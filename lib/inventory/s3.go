package inventory

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// GetObjectAPI is the one S3 call S3Fetcher needs (*s3.Client has it).
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3Fetcher opens objects with GetObject. It also satisfies batchops.Fetcher.
type S3Fetcher struct {
	Client GetObjectAPI
}

// Open starts a GET of s3://bucket/key; the caller closes the body.
func (f S3Fetcher) Open(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	out, err := f.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	return out.Body, nil
}
