package e2e

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
)

// Sources uploaded with an additional checksum (as recent AWS CLIs and SDKs
// do by default) keep their algorithm, type and value through the whole
// chain; multipart ones can only be completed with every part's checksum,
// which s3mpdone fetches with ListParts.
func TestChecksumSourcesChain(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src, dst func(testing.TB) *s3test.Server
		mode     string
	}{
		// auto, not server: MinIO refuses UploadPartCopy into an upload
		// with a checksum algorithm ("checksum missing"; AWS S3 computes
		// it), and auto falls back to streaming those parts.
		{"same-server-auto", s3test.A, s3test.A, "auto"},
		{"stream", s3test.A, s3test.B, "stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.src(t), tc.dst(t))
			c := e.src.Client(t)
			s3test.Put(t, c, e.srcB, "single-crc32c", s3test.RandomBytes(3000, 1),
				func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c })
			s3test.PutMultipart(t, c, e.srcB, "multi-composite", []int64{5 * s3test.MiB, 5 * s3test.MiB, 1000},
				func(in *s3.CreateMultipartUploadInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c })
			s3test.PutMultipart(t, c, e.srcB, "multi-full-object", []int64{5 * s3test.MiB, 1000}, func(in *s3.CreateMultipartUploadInput) {
				in.ChecksumAlgorithm, in.ChecksumType = types.ChecksumAlgorithmCrc32, types.ChecksumTypeFullObject
			})
			keys := []string{"single-crc32c", "multi-composite", "multi-full-object"}
			ch := e.runChain("first", "--mode", tc.mode)
			e.mustOK(ch.copyDone)
			checkOneRowEach(t, ch.report, statusAll(keys, record.OutcomeCopied))
			e.sameContents()
			dc := e.dst.Client(t)
			for _, k := range keys {
				sv, st := checksumOf(t, c, e.srcB, k)
				dv, dt := checksumOf(t, dc, e.dstB, k)
				if sv == "" || sv != dv || st != dt {
					t.Errorf("%s: destination checksum %q (%s), source %q (%s)", k, dv, dt, sv, st)
				}
			}
			if n := uploadsLeft(t, dc, e.dstB); n != 0 {
				t.Errorf("%d uploads left", n)
			}
		})
	}
}

func checksumOf(t *testing.T, c *s3.Client, bucket, key string) (string, types.ChecksumType) {
	t.Helper()
	h, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatalf("head %q: %v", key, err)
	}
	return aws.ToString(h.ChecksumCRC32) + aws.ToString(h.ChecksumCRC32C) + aws.ToString(h.ChecksumCRC64NVME) +
		aws.ToString(h.ChecksumSHA1) + aws.ToString(h.ChecksumSHA256), h.ChecksumType
}
