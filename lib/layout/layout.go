// Package layout owns learning a multipart source object's exact part
// boundaries from S3, so that a copy with the same boundaries gets the same
// ETag, and choosing new boundaries when the user asks for a part size (or
// the object is too large for one request).
package layout

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// S3 multipart limits.
const (
	MinPartSize    = 5 << 20
	MaxPartSize    = 5 << 30
	MaxParts       = 10000
	MaxSinglePut   = 5 << 30 // CopyObject and PutObject refuse larger objects
	DefaultPartSz  = 64 << 20
	MaxObjectBytes = 5 << 40
)

// ETagParts returns N for a multipart ETag "<hex>-N" (quotes allowed), or 0
// for a single-part ETag.
func ETagParts(etag string) int {
	etag = strings.Trim(etag, `"`)
	i := strings.LastIndexByte(etag, '-')
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(etag[i+1:])
	if err != nil || n < 1 || n > MaxParts {
		return 0
	}
	return n
}

// IsMD5 reports whether an ETag (quotes allowed) is 32 hex digits: the form
// S3 uses for an MD5 of the content.
func IsMD5(etag string) bool {
	etag = strings.Trim(etag, `"`)
	if len(etag) != 32 {
		return false
	}
	for i := 0; i < len(etag); i++ {
		c := etag[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// HeadAPI is the one call Learn makes.
type HeadAPI interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// Source names the object version to learn, pinned to its ETag.
type Source struct {
	Bucket, Key, VersionID, ETag string
	Size                         int64
}

func (s Source) String() string { return "s3://" + s.Bucket + "/" + s.Key }

// Layout is a learned part layout.
type Layout struct {
	Parts []int64 // part lengths in order
	// Head is the HEAD of part 1: it carries the object's headers
	// (properties, encryption, checksum algorithm).
	Head *s3.HeadObjectOutput
	// Heads counts HeadObject requests made.
	Heads int
}

// Options tune Learn.
type Options struct {
	// Exact HEADs every part instead of trusting a uniform layout that
	// explains the size (a layout like 5,6,4,1 MiB has the same part 1,
	// last part and total as 5,5,5,1 MiB; only Exact tells them apart).
	Exact bool
	// Concurrency bounds the part HEADs of one object.
	Concurrency int
	// OptFns are passed to every HeadObject call.
	OptFns []func(*s3.Options)
}

// ErrLayout means S3's answers do not add up to the listed object.
var ErrLayout = errors.New("part layout does not match the object")

// Learn finds the part lengths of a multipart object with n = ETagParts(ETag)
// parts. It HEADs part 1 and part n at once (both pinned with If-Match to the
// listed ETag and to the version id when known); when part 1's length
// repeated n-1 times plus part n's length gives the size, the layout is
// uniform — the layout every SDK upload manager and CLI produces. Otherwise
// it HEADs the remaining parts, Concurrency at a time.
func Learn(ctx context.Context, api HeadAPI, src Source, o Options) (*Layout, error) {
	n := ETagParts(src.ETag)
	if n == 0 {
		return nil, fmt.Errorf("learn part layout of %s: ETag %q is not a multipart ETag", src, src.ETag)
	}
	lengths := make([]int64, n)
	heads := make([]*s3.HeadObjectOutput, n)
	head := func(ctx context.Context, i int) error {
		out, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(src.Bucket), Key: aws.String(src.Key),
			VersionId: opt(src.VersionID), IfMatch: aws.String(quote(src.ETag)), PartNumber: aws.Int32(int32(i + 1)),
			ChecksumMode: types.ChecksumModeEnabled}, o.OptFns...)
		if err != nil {
			return fmt.Errorf("head part %d of %s: %w", i+1, src, err)
		}
		if pc := aws.ToInt32(out.PartsCount); pc != int32(n) && !(n == 1 && pc == 0) {
			return fmt.Errorf("head part %d of %s: %w: S3 reports %d parts, the ETag says %d", i+1, src, ErrLayout, pc, n)
		}
		lengths[i], heads[i] = aws.ToInt64(out.ContentLength), out
		return nil
	}
	l := &Layout{}
	first := []int{0}
	if n > 1 {
		first = append(first, n-1)
	}
	if err := heads1(ctx, first, head, len(first)); err != nil {
		return nil, err
	}
	l.Heads = len(first)
	l.Head = heads[0]
	p1, last := lengths[0], lengths[n-1]
	uniform := p1 > 0 && last > 0 && last <= p1 && p1*int64(n-1)+last == src.Size
	if n <= 2 || (uniform && !o.Exact) {
		for i := 1; i < n-1; i++ {
			lengths[i] = p1
		}
	} else {
		var rest []int
		for i := 1; i < n-1; i++ {
			rest = append(rest, i)
		}
		if err := heads1(ctx, rest, head, max(o.Concurrency, 1)); err != nil {
			return nil, err
		}
		l.Heads += len(rest)
	}
	var total int64
	for _, x := range lengths {
		total += x
	}
	if total != src.Size {
		return nil, fmt.Errorf("learn part layout of %s: %w: parts add up to %d bytes, the object has %d", src, ErrLayout, total, src.Size)
	}
	l.Parts = lengths
	return l, nil
}

func heads1(ctx context.Context, idx []int, head func(context.Context, int) error, limit int) error {
	if len(idx) == 1 {
		return head(ctx, idx[0])
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for _, i := range idx {
		g.Go(func() error { return head(gctx, i) })
	}
	return g.Wait()
}

// Split returns new part lengths for an object of size bytes with parts of
// partSize, grown (in MiB steps) so there are at most MaxParts parts. A
// 0-byte object gets one empty part.
func Split(size, partSize int64) []int64 {
	if partSize <= 0 {
		partSize = DefaultPartSz
	}
	partSize = max(partSize, MinPartSize)
	for (size+partSize-1)/partSize > MaxParts {
		partSize += 1 << 20
	}
	partSize = min(partSize, MaxPartSize)
	if size == 0 {
		return []int64{0}
	}
	var parts []int64
	for off := int64(0); off < size; off += partSize {
		parts = append(parts, min(partSize, size-off))
	}
	return parts
}

func quote(etag string) string {
	if strings.HasPrefix(etag, `"`) {
		return etag
	}
	return `"` + etag + `"`
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
