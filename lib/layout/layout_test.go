package layout

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// fakeHead answers part HEADs from a list of part lengths.
type fakeHead struct {
	parts []int64
	etag  string
	count int32 // reported parts count; 0 = len(parts)
	mu    sync.Mutex
	asked []int32
}

func (f *fakeHead) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	f.mu.Lock()
	f.asked = append(f.asked, aws.ToInt32(in.PartNumber))
	f.mu.Unlock()
	if aws.ToString(in.IfMatch) != `"`+f.etag+`"` {
		return nil, &smithy.GenericAPIError{Code: "PreconditionFailed"}
	}
	pn := aws.ToInt32(in.PartNumber)
	if pn < 1 || int(pn) > len(f.parts) {
		return nil, &smithy.GenericAPIError{Code: "InvalidPartNumber"}
	}
	count := f.count
	if count == 0 {
		count = int32(len(f.parts))
	}
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(f.parts[pn-1]), PartsCount: aws.Int32(count)}, nil
}

const M = 1 << 20

func TestLearn(t *testing.T) {
	cases := []struct {
		name  string
		parts []int64
		exact bool
		heads int
	}{
		{"5MiB uniform", []int64{5 * M, 5 * M, 5 * M, 2}, false, 2},
		{"8MiB uniform", []int64{8 * M, 8 * M, 8 * M}, false, 2},
		{"16MiB two parts", []int64{16 * M, 1}, false, 2},
		{"64MiB", []int64{64 * M, 64 * M, 7 * M}, false, 2},
		{"one part", []int64{3 * M}, false, 1},
		{"non-uniform, last part gives it away", []int64{5 * M, 7 * M, 5 * M, 1 * M}, false, 4},
		{"non-uniform middle", []int64{5 * M, 9 * M, 6 * M, 5 * M}, false, 4},
		{"exact always asks", []int64{5 * M, 5 * M, 5 * M, 2}, true, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var size int64
			for _, p := range c.parts {
				size += p
			}
			etag := fmt.Sprintf("0123456789abcdef0123456789abcdef-%d", len(c.parts))
			f := &fakeHead{parts: c.parts, etag: etag}
			l, err := Learn(context.Background(), f, Source{Bucket: "b", Key: "k", ETag: etag, Size: size}, Options{Exact: c.exact, Concurrency: 2})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l.Parts, c.parts) {
				t.Errorf("parts %v, want %v", l.Parts, c.parts)
			}
			if l.Heads != c.heads || len(f.asked) != c.heads {
				t.Errorf("%d HEADs (%v), want %d", l.Heads, f.asked, c.heads)
			}
		})
	}
}

func TestLearnErrors(t *testing.T) {
	f := &fakeHead{parts: []int64{5 * M, 1}, etag: "aa-2"}
	if _, err := Learn(context.Background(), f, Source{ETag: "bb-2", Size: 5*M + 1}, Options{}); err == nil || errors.Is(err, ErrLayout) {
		t.Errorf("changed source: %v", err)
	}
	if _, err := Learn(context.Background(), f, Source{ETag: "aa-2", Size: 5*M + 2}, Options{}); !errors.Is(err, ErrLayout) {
		t.Errorf("size mismatch: %v", err)
	}
	// S3 says 2 parts; the ETag says 3.
	f3 := &fakeHead{parts: []int64{5 * M, 1, 1}, etag: "aa-3", count: 2}
	if _, err := Learn(context.Background(), f3, Source{ETag: "aa-3", Size: 5*M + 1}, Options{}); !errors.Is(err, ErrLayout) {
		t.Errorf("part count mismatch: %v", err)
	}
	if _, err := Learn(context.Background(), f, Source{ETag: "aa", Size: 1}, Options{}); err == nil {
		t.Error("single-part ETag accepted")
	}
}

func TestETag(t *testing.T) {
	for etag, n := range map[string]int{`"abc-3"`: 3, "abc-1": 1, "abc": 0, "abc-0": 0, "abc-10001": 0, "abc-x": 0, "": 0} {
		if got := ETagParts(etag); got != n {
			t.Errorf("ETagParts(%q) = %d, want %d", etag, got, n)
		}
	}
	for etag, ok := range map[string]bool{"0123456789abcdef0123456789ABCDEF": true, `"0123456789abcdef0123456789abcdef"`: true, "0123456789abcdef0123456789abcdeg": false, "abc-2": false} {
		if IsMD5(etag) != ok {
			t.Errorf("IsMD5(%q) != %v", etag, ok)
		}
	}
}

func TestSplit(t *testing.T) {
	cases := []struct {
		size, part int64
		n          int
		first      int64
	}{
		{0, 0, 1, 0},
		{10 * M, 64 * M, 1, 10 * M},
		{130 * M, 64 * M, 3, 64 * M},
		{6 << 30, 0, 96, 64 * M},
		{MaxObjectBytes, 8 * M, 10000, 0},
		{20 * M, 1, 4, 5 * M},
	}
	for _, c := range cases {
		p := Split(c.size, c.part)
		var total int64
		for _, x := range p {
			total += x
		}
		if total != c.size || len(p) > MaxParts || c.n != 0 && len(p) > c.n || c.first != 0 && p[0] != c.first {
			t.Errorf("Split(%d, %d): %d parts, first %d, total %d", c.size, c.part, len(p), p[0], total)
		}
	}
}
