package s3test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// MiB is 1<<20 bytes, for readable part sizes in tests.
const MiB = 1 << 20

// RandomBytes returns n bytes of pseudo-random content. The same seed gives
// the same bytes, so a test can regenerate a body instead of keeping it.
func RandomBytes(n int64, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= len(b); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// MultipartETag computes the S3 ETag of an object uploaded with the given
// part sizes: hex(MD5(MD5(part1) || ... || MD5(partN))) + "-N", quoted as
// S3 returns it.
func MultipartETag(body []byte, partSizes []int64) string {
	var sums []byte
	var off int64
	for _, n := range partSizes {
		s := md5.Sum(body[off : off+n])
		sums = append(sums, s[:]...)
		off += n
	}
	s := md5.Sum(sums)
	return fmt.Sprintf("%q", hex.EncodeToString(s[:])+fmt.Sprintf("-%d", len(partSizes)))
}

// PutMultipart uploads an object of random content with exactly the given
// part sizes (every part but the last must be >= 5 MiB, as S3 requires) and
// returns the body and the completed upload's output (ETag, VersionId). The
// mutators adjust the CreateMultipartUpload request (content headers,
// metadata, tagging, storage class, SSE, checksum algorithm); for SSE-C the
// caller must also set the key on the parts, which this helper does not do.
func PutMultipart(t testing.TB, c *s3.Client, bucket, key string, partSizes []int64, mutate ...func(*s3.CreateMultipartUploadInput)) ([]byte, *s3.CompleteMultipartUploadOutput) {
	t.Helper()
	var total int64
	for _, n := range partSizes {
		total += n
	}
	body := RandomBytes(total, uint64(total)^uint64(len(key))<<32^uint64(len(partSizes)))
	out := PutMultipartBody(t, c, bucket, key, body, partSizes, mutate...)
	return body, out
}

// PutMultipartBody is PutMultipart with caller-chosen content; the part sizes
// must add up to len(body).
func PutMultipartBody(t testing.TB, c *s3.Client, bucket, key string, body []byte, partSizes []int64, mutate ...func(*s3.CreateMultipartUploadInput)) *s3.CompleteMultipartUploadOutput {
	t.Helper()
	ctx := context.Background()
	var total int64
	for _, n := range partSizes {
		total += n
	}
	if total != int64(len(body)) {
		t.Fatalf("put multipart %q: part sizes add up to %d, body has %d bytes", key, total, len(body))
	}
	in := &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String(key)}
	for _, m := range mutate {
		m(in)
	}
	up, err := c.CreateMultipartUpload(ctx, in)
	if err != nil {
		t.Fatalf("create multipart upload %q: %v", key, err)
	}
	var parts []types.CompletedPart
	var off int64
	for i, n := range partSizes {
		pn := int32(i + 1)
		pin := &s3.UploadPartInput{Bucket: &bucket, Key: aws.String(key), UploadId: up.UploadId, PartNumber: aws.Int32(pn),
			Body: bytes.NewReader(body[off : off+n]), ContentLength: aws.Int64(n), ChecksumAlgorithm: in.ChecksumAlgorithm}
		p, err := c.UploadPart(ctx, pin)
		if err != nil {
			c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: aws.String(key), UploadId: up.UploadId})
			t.Fatalf("upload part %d of %q: %v", pn, key, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(pn), ETag: p.ETag,
			ChecksumCRC32: p.ChecksumCRC32, ChecksumCRC32C: p.ChecksumCRC32C, ChecksumSHA1: p.ChecksumSHA1,
			ChecksumSHA256: p.ChecksumSHA256, ChecksumCRC64NVME: p.ChecksumCRC64NVME})
		off += n
	}
	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatalf("complete multipart upload %q: %v", key, err)
	}
	return out
}
