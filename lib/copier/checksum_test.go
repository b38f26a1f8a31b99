package copier_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3pipe/s3pipe/lib/copier"
	"github.com/s3pipe/s3pipe/lib/props"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
)

// completeWithChecksums is what s3mpdone must do for an upload created with
// a checksum algorithm: S3 (and MinIO) refuse a completion without each
// part's checksum, and result rows do not carry them — ListParts does.
func (e *env) completeWithChecksums(rs []record.Result) map[string]string {
	e.t.Helper()
	etags := map[string]string{}
	uploads := map[string][]record.Result{}
	for _, r := range rs {
		if r.Status != record.StatusOK {
			e.t.Errorf("row %q part %d: %s %s %s", r.Key, r.PartNumber, r.Status, r.ErrorCode, r.Message)
			continue
		}
		if r.Action == record.ActionCopy {
			etags[r.Key] = r.DstETag
			continue
		}
		uploads[r.UploadID] = append(uploads[r.UploadID], r)
	}
	ctx := context.Background()
	for id, parts := range uploads {
		sort.Slice(parts, func(i, j int) bool { return parts[i].PartNumber < parts[j].PartNumber })
		key := parts[0].Key
		lp, err := e.dst.ListParts(ctx, &s3.ListPartsInput{Bucket: &e.dstB, Key: &key, UploadId: &id})
		if err != nil {
			e.t.Fatalf("list parts of %q: %v", key, err)
		}
		listed := map[int32]types.Part{}
		for _, p := range lp.Parts {
			listed[aws.ToInt32(p.PartNumber)] = p
		}
		var cps []types.CompletedPart
		for _, p := range parts {
			cp := types.CompletedPart{PartNumber: aws.Int32(p.PartNumber), ETag: aws.String(`"` + p.DstETag + `"`)}
			if l, ok := listed[p.PartNumber]; ok && lp.ChecksumAlgorithm != "" {
				cp.ChecksumCRC32, cp.ChecksumCRC32C, cp.ChecksumCRC64NVME = l.ChecksumCRC32, l.ChecksumCRC32C, l.ChecksumCRC64NVME
				cp.ChecksumSHA1, cp.ChecksumSHA256 = l.ChecksumSHA1, l.ChecksumSHA256
			}
			cps = append(cps, cp)
		}
		out, err := e.dst.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &e.dstB, Key: &key, UploadId: &id,
			ChecksumType: lp.ChecksumType, MultipartUpload: &types.CompletedMultipartUpload{Parts: cps}})
		if err != nil {
			e.t.Errorf("complete %q: %v", key, err)
			continue
		}
		etags[key] = aws.ToString(out.ETag)[1 : len(aws.ToString(out.ETag))-1]
	}
	return etags
}

func headChecksum(t *testing.T, c *s3.Client, bucket, key string) (string, props.Props) {
	t.Helper()
	h, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatalf("head %q: %v", key, err)
	}
	p := props.FromHead(h)
	v := aws.ToString(h.ChecksumCRC32) + aws.ToString(h.ChecksumCRC32C) + aws.ToString(h.ChecksumCRC64NVME) +
		aws.ToString(h.ChecksumSHA1) + aws.ToString(h.ChecksumSHA256)
	return v, p
}

// TestChecksumAlgorithmCarried: sources written with an additional
// checksum (single-part and multipart) are copied with the same algorithm
// and end with the same checksum value and type, server-side (auto: MinIO
// refuses UploadPartCopy into a checksum upload, so those parts stream) and
// streamed across accounts. Streamed copies send the source's own checksum
// value, so S3 checks the copy against it.
func TestChecksumAlgorithmCarried(t *testing.T) {
	for _, s := range []setup{{"auto", copier.ModeAuto, false}, setups[2]} {
		t.Run(s.name, func(t *testing.T) {
			e := newEnv(t, s)
			crc32c := func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c }
			sha := func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256 }
			s3test.Put(t, e.src.Client, e.srcB, "small", s3test.RandomBytes(2000, 1), crc32c)
			s3test.Put(t, e.src.Client, e.srcB, "big", s3test.RandomBytes(3*MiB, 2), crc32c)
			s3test.Put(t, e.src.Client, e.srcB, "big-sha", s3test.RandomBytes(2*MiB, 3), sha)
			s3test.PutMultipart(t, e.src.Client, e.srcB, "multi", []int64{5 * MiB, 100},
				func(in *s3.CreateMultipartUploadInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c })
			s3test.PutMultipart(t, e.src.Client, e.srcB, "multi-full", []int64{5 * MiB, 100}, func(in *s3.CreateMultipartUploadInput) {
				in.ChecksumAlgorithm, in.ChecksumType = types.ChecksumAlgorithmCrc32, types.ChecksumTypeFullObject
			})
			keys := []string{"small", "big", "big-sha", "multi", "multi-full"}
			var objs []record.Object
			for _, k := range keys {
				objs = append(objs, e.object(k))
			}
			rs, err := e.copy(e.plan(objs...))
			if err != nil {
				t.Fatalf("copy: %v", err)
			}
			etags := e.completeWithChecksums(rs)
			for i, k := range keys {
				sv, sp := headChecksum(t, e.src.Client, e.srcB, k)
				dv, dp := headChecksum(t, e.dst.Client, e.dstB, k)
				if sv == "" || sp.ChecksumAlgorithm == "" {
					t.Fatalf("%s: the source has no checksum: the test tests nothing", k)
				}
				if sv != dv || sp.ChecksumAlgorithm != dp.ChecksumAlgorithm || sp.ChecksumType != dp.ChecksumType {
					t.Errorf("%s: destination checksum %s %q/%s, source %s %q/%s", k, dp.ChecksumAlgorithm, dv, dp.ChecksumType,
						sp.ChecksumAlgorithm, sv, sp.ChecksumType)
				}
				if etags[k] != objs[i].ETag {
					t.Errorf("%s: ETag %s, source %s", k, etags[k], objs[i].ETag)
				}
			}
		})
	}
}

// TestChecksumNewParts: new part boundaries have no source part checksum;
// over plain http the SDK cannot compute one for a streamed body, so the
// parts fail ChecksumUnavailable at once (not retried, not a silent drop of
// the algorithm); --checksum-algorithm none copies them.
func TestChecksumNewParts(t *testing.T) {
	e := newEnv(t, setups[2])
	s3test.Put(t, e.src.Client, e.srcB, "big", s3test.RandomBytes(6*MiB, 9), func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c })
	e.partSize = 5 * MiB
	rs, err := e.copy(e.plan(e.object("big")))
	if err == nil || len(rs) != 2 {
		t.Fatalf("copy: %v, %d rows", err, len(rs))
	}
	for _, r := range rs {
		if r.Status != record.StatusFailed || r.ErrorCode != "ChecksumUnavailable" {
			t.Errorf("part %d: %s %s %s", r.PartNumber, r.Status, r.ErrorCode, r.Message)
		}
	}
	if e.copyCounters.Get("retries") != 0 {
		t.Errorf("%d retries of a part that cannot succeed", e.copyCounters.Get("retries"))
	}
	e.over.ChecksumAlgorithm = "none"
	rs, err = e.copy(e.plan(e.object("big")))
	if err != nil {
		t.Fatalf("copy with --checksum-algorithm none: %v", err)
	}
	if etags := e.complete(rs); !strings.HasSuffix(etags["big"], "-2") {
		t.Errorf("ETag %q", etags["big"])
	}
}
