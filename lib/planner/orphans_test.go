package planner

import (
	"context"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

type fakeUploads struct {
	uploads []types.MultipartUpload
	aborted []string
}

func (f *fakeUploads) ListMultipartUploads(_ context.Context, in *s3.ListMultipartUploadsInput, _ ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error) {
	// One upload per page, keys URL-encoded as asked, to exercise paging.
	start := 0
	if in.UploadIdMarker != nil {
		for i, u := range f.uploads {
			if *u.UploadId == *in.UploadIdMarker {
				start = i + 1
			}
		}
	}
	if start >= len(f.uploads) {
		return &s3.ListMultipartUploadsOutput{}, nil
	}
	u := f.uploads[start]
	enc := url.QueryEscape(*u.Key)
	return &s3.ListMultipartUploadsOutput{Uploads: []types.MultipartUpload{{Key: &enc, UploadId: u.UploadId, Initiated: u.Initiated}},
		IsTruncated: aws.Bool(start+1 < len(f.uploads)), NextKeyMarker: &enc, NextUploadIdMarker: u.UploadId}, nil
}

func (f *fakeUploads) AbortMultipartUpload(_ context.Context, in *s3.AbortMultipartUploadInput, _ ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	f.aborted = append(f.aborted, *in.UploadId)
	return &s3.AbortMultipartUploadOutput{}, nil
}

func TestAbortDuplicates(t *testing.T) {
	now := time.Now()
	key := "dir/a b\t+"
	up := func(k, id string, at time.Time) types.MultipartUpload {
		return types.MultipartUpload{Key: aws.String(k), UploadId: aws.String(id), Initiated: aws.Time(at)}
	}
	f := &fakeUploads{uploads: []types.MultipartUpload{
		up(key, "lost-attempt", now.Add(-time.Second)),
		up(key, "ours", now),
		up(key, "old-unrelated", now.Add(-time.Hour)),
		up(key+"x", "other-key", now),
		up(key, "lost-attempt-2", now),
	}}
	n := abortDuplicates(context.Background(), f, "b", key, "ours", now.Add(-2*time.Second))
	sort.Strings(f.aborted)
	if n != 2 || len(f.aborted) != 2 || f.aborted[0] != "lost-attempt" || f.aborted[1] != "lost-attempt-2" {
		t.Fatalf("aborted %d %v, want the two lost attempts only", n, f.aborted)
	}
}
