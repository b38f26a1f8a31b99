package copier

import (
	"context"
	"strings"
	"testing"

	"github.com/s3pipe/s3pipe/lib/layout"
	"github.com/s3pipe/s3pipe/lib/record"
)

// A hand-written copy row over 5 GiB is refused before any request, with
// S3's own error code and a hint to plan it in parts; a part row of the
// same object is not refused by that check.
func TestCopyRowOver5GiB(t *testing.T) {
	for _, mode := range []Mode{ModeServer, ModeStream, ModeAuto} {
		c := New(Config{Mode: mode, SameIdentity: true, Attempts: 1}, refuseAPI{"Unexpected"}, refuseAPI{"Unexpected"}, nil, nil)
		p := record.Plan{Key: "big", ETag: "0123456789abcdef0123456789abcdef", Size: layout.MaxSinglePut + 1, SrcBucket: "s", DstBucket: "d",
			Length: layout.MaxSinglePut + 1, Action: record.ActionCopy, Verify: record.VerifyETag}
		r, err := c.Copy(context.Background(), &p)
		if err != nil || r.Status != record.StatusFailed || r.ErrorCode != "EntityTooLarge" || !strings.Contains(r.Message, "plan it in parts") {
			t.Errorf("%s: %v %+v", mode, err, r)
		}
		p.Action, p.UploadID, p.PartNumber, p.PartCount, p.Length = record.ActionPart, "u", 1, 2, layout.MaxPartSize
		if r, _ := c.Copy(context.Background(), &p); r.ErrorCode != "Unexpected" {
			t.Errorf("%s: part row: %+v (want the fake's error: a request was made)", mode, r)
		}
	}
}

// The small-object buffers grow with the objects: a run of small objects
// does not hold concurrency × 1 MiB.
func TestBufferSizes(t *testing.T) {
	c := New(Config{Workers: 2}, nil, nil, nil, nil)
	for _, x := range []struct{ n, want int64 }{{0, 64 << 10}, {1000, 64 << 10}, {64 << 10, 64 << 10}, {64<<10 + 1, 128 << 10}, {SmallObject, SmallObject}} {
		b := c.buffer(x.n)
		if int64(len(b)) != x.want {
			t.Errorf("buffer(%d): %d bytes, want %d", x.n, len(b), x.want)
		}
	}
	c.release(make([]byte, 256<<10))
	if b := c.buffer(1000); len(b) != 256<<10 {
		t.Errorf("pooled buffer not reused: %d bytes", len(b))
	}
	if b := c.buffer(512 << 10); len(b) != 512<<10 {
		t.Errorf("buffer(512KiB) = %d bytes", len(b))
	}
}
