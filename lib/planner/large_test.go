package planner

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/layout"
	"github.com/s3pipe/s3pipe/lib/record"
)

const GiB = 1 << 30

// fakeS3 answers HEADs for objects of any size without holding any bytes:
// a multipart object's parts are uniform parts of partSize.
type fakeS3 struct {
	mu       sync.Mutex
	size     int64
	partSize int64 // 0 = single-part object
	calls    []string
	create   *s3.CreateMultipartUploadInput
}

func (f *fakeS3) call(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeS3) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	f.call(fmt.Sprintf("HeadObject part=%d if-match=%s", aws.ToInt32(in.PartNumber), aws.ToString(in.IfMatch)))
	out := &s3.HeadObjectOutput{ContentLength: aws.Int64(f.size), ContentType: aws.String("video/mp4"),
		ServerSideEncryption: types.ServerSideEncryptionAes256, ChecksumCRC32C: aws.String("AAAAAA=="), TagCount: aws.Int32(0)}
	if n := aws.ToInt32(in.PartNumber); n > 0 && f.partSize > 0 {
		parts := (f.size + f.partSize - 1) / f.partSize
		out.PartsCount = aws.Int32(int32(parts))
		out.ContentLength = aws.Int64(min(f.partSize, f.size-int64(n-1)*f.partSize))
	}
	return out, nil
}

func (f *fakeS3) GetObjectTagging(context.Context, *s3.GetObjectTaggingInput, ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error) {
	f.call("GetObjectTagging")
	return &s3.GetObjectTaggingOutput{}, nil
}

func (f *fakeS3) CreateMultipartUpload(_ context.Context, in *s3.CreateMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	f.call("CreateMultipartUpload")
	f.create = in
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String("up-1")}, nil
}

// TestLargeObjects: a single-part source over 5 GiB (only possible on
// S3-compatible servers, or as a hand-edited row) is planned into parts
// after one HEAD — never as a copy row, which CopyObject/PutObject would
// refuse — and no copy row is ever planned above 5 GiB.
func TestLargeObjects(t *testing.T) {
	const md5ETag = "0123456789abcdef0123456789abcdef"
	cases := []struct {
		name      string
		size      int64
		srcPart   int64 // source's part size (0 = single-part ETag)
		partSize  int64 // --part-size
		wantCopy  bool
		wantParts int
		maxPart   int64
	}{
		{"5 GiB single-part: one copy row", 5 * GiB, 0, 0, true, 0, 0},
		{"5 GiB + 1 single-part: parts", 5*GiB + 1, 0, 0, false, 81, layout.DefaultPartSz},
		{"6 GiB single-part: 64 MiB parts", 6 * GiB, 0, 0, false, 96, layout.DefaultPartSz},
		{"6 GiB single-part, --part-size 1GiB", 6 * GiB, 0, 1 * GiB, false, 6, 1 * GiB},
		// 64 MiB grown in 1 MiB steps to 525 MiB: 9,987 parts, within 10,000.
		{"5 TiB single-part: at most 10,000 parts", 5 << 40, 0, 0, false, 9987, 525 << 20},
		{"6 GiB multipart, --part-size 5GiB: parts, not a copy", 6 * GiB, 16 << 20, 5 * GiB, false, 2, 5 * GiB},
		{"6 GiB multipart: source layout", 6 * GiB, 1 * GiB, 0, false, 6, 1 * GiB},
		{"5 GiB multipart, --part-size 5GiB: one copy row", 5 * GiB, 8 << 20, 5 * GiB, true, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeS3{size: c.size, partSize: c.srcPart}
			etag := md5ETag
			if c.srcPart > 0 {
				etag = fmt.Sprintf("%s-%d", md5ETag, (c.size+c.srcPart-1)/c.srcPart)
			}
			pl := &Planner{Src: f, Dst: f, SrcBucket: "src", DstBucket: "dst", PartSize: c.partSize, HeadConc: 4,
				Set: counters.New("s3mpplan", CounterNames...)}
			rows, err := pl.Plan(context.Background(), &Input{Obj: record.Object{Key: "big", ETag: etag, Size: c.size}})
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			for i, r := range rows {
				if r.Action == record.ActionCopy && r.Length > layout.MaxSinglePut {
					t.Errorf("copy row of %d bytes: over the 5 GiB limit", r.Length)
				}
				if r.Action == record.ActionPart && (r.Length > c.maxPart || r.Length > layout.MaxPartSize || r.PartNumber != int32(i+1) ||
					r.PartCount != int32(len(rows)) || r.Offset != total || r.UploadID != "up-1") {
					t.Errorf("part row %d: %+v", i+1, r)
				}
				total += r.Length
			}
			if total != c.size {
				t.Errorf("rows cover %d bytes of %d", total, c.size)
			}
			if c.wantCopy {
				if len(rows) != 1 || rows[0].Action != record.ActionCopy || len(f.calls) != 0 {
					t.Errorf("want one copy row and no request; rows %d action %s, calls %v", len(rows), rows[0].Action, f.calls)
				}
				return
			}
			if len(rows) != c.wantParts {
				t.Errorf("%d part rows, want %d", len(rows), c.wantParts)
			}
			for _, call := range f.calls {
				if strings.Contains(call, "Copy") {
					t.Errorf("planning made %s", call)
				}
			}
			if last := f.calls[len(f.calls)-1]; last != "CreateMultipartUpload" || f.create == nil {
				t.Fatalf("calls %v: want the upload created last", f.calls)
			}
			// The new upload carries what the single HEAD told.
			if aws.ToString(f.create.ContentType) != "video/mp4" || f.create.ServerSideEncryption != types.ServerSideEncryptionAes256 ||
				f.create.ChecksumAlgorithm != types.ChecksumAlgorithmCrc32c {
				t.Errorf("upload created with %+v", f.create)
			}
			newParts := c.srcPart == 0 || c.partSize > 0
			if newParts && (rows[0].Verify != record.VerifySize || !strings.Contains(rows[0].Note, "ETag differs")) {
				t.Errorf("new parts: verify %s note %q", rows[0].Verify, rows[0].Note)
			}
			if !strings.Contains(f.calls[0], `if-match="`+etag+`"`) {
				t.Errorf("HEAD not pinned to the listed ETag: %s", f.calls[0])
			}
		})
	}
}
