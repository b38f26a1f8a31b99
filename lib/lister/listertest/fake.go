// Package listertest is an in-memory S3 bucket for listing tests. It
// implements ListObjectsV2 and ListObjectVersions with S3's Prefix,
// Delimiter, StartAfter, KeyMarker, MaxKeys and continuation semantics and
// EncodingType=url, and holds keys that MinIO cannot (`//`, a leading `/`).
package listertest

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// MTime is every fake object's modification time.
var MTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// Bucket is a fake bucket. Each object's size is the length of its key.
type Bucket struct {
	keys []string // sorted, unique

	// Fail, when set, is asked before every ListObjectsV2 call.
	Fail func(in *s3.ListObjectsV2Input) error
	// NoEcho makes responses omit EncodingType (keys still encoded when asked).
	NoEcho bool

	Calls    atomic.Int64 // requests served
	Returned atomic.Int64 // keys and common prefixes returned
}

// New returns a bucket holding keys.
func New(keys []string) *Bucket {
	k := append([]string(nil), keys...)
	sort.Strings(k)
	out := k[:0]
	for i, s := range k {
		if i == 0 || s != k[i-1] {
			out = append(out, s)
		}
	}
	return &Bucket{keys: out}
}

// Keys returns the sorted keys.
func (b *Bucket) Keys() []string { return b.keys }

// Encode is S3's EncodingType=url encoding of a key: form encoding (space
// as '+') that leaves '/' as it is.
func Encode(k string) string {
	return strings.ReplaceAll(url.QueryEscape(k), "%2F", "/")
}

type entry struct {
	key    string
	prefix bool // a CommonPrefix
	next   int  // index of the first key after this entry
}

// walk returns up to max entries starting at key index i, grouping keys
// under prefix that contain delim after the prefix into CommonPrefixes.
func (b *Bucket) walk(i int, prefix, delim string, max int) ([]entry, int) {
	var es []entry
	for i < len(b.keys) && len(es) < max {
		k := b.keys[i]
		if !strings.HasPrefix(k, prefix) {
			if k > prefix {
				return es, len(b.keys)
			}
			i++
			continue
		}
		if delim != "" {
			if j := strings.Index(k[len(prefix):], delim); j >= 0 {
				cp := k[:len(prefix)+j+len(delim)]
				n := i
				for n < len(b.keys) && strings.HasPrefix(b.keys[n], cp) {
					n++
				}
				es = append(es, entry{key: cp, prefix: true, next: n})
				i = n
				continue
			}
		}
		es = append(es, entry{key: k, next: i + 1})
		i++
	}
	return es, i
}

// after is the index of the first key > s (and >= prefix).
func (b *Bucket) after(s, prefix string) int {
	i := sort.SearchStrings(b.keys, prefix)
	if s != "" {
		j := sort.Search(len(b.keys), func(n int) bool { return b.keys[n] > s })
		i = max(i, j)
	}
	return i
}

func maxKeys(p *int32) int {
	if p == nil || *p <= 0 || *p > 1000 {
		return 1000
	}
	return int(*p)
}

// ListObjectsV2 implements s3.ListObjectsV2APIClient.
func (b *Bucket) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if b.Fail != nil {
		if err := b.Fail(in); err != nil {
			return nil, err
		}
	}
	b.Calls.Add(1)
	prefix, delim := aws.ToString(in.Prefix), aws.ToString(in.Delimiter)
	i := b.after(aws.ToString(in.StartAfter), prefix)
	if in.ContinuationToken != nil {
		n, err := strconv.Atoi(*in.ContinuationToken)
		if err != nil {
			return nil, &types.NoSuchKey{Message: aws.String("bad continuation token")}
		}
		i = n
	}
	max := maxKeys(in.MaxKeys)
	es, next := b.walk(i, prefix, delim, max)
	enc := in.EncodingType == types.EncodingTypeUrl
	out := &s3.ListObjectsV2Output{Name: in.Bucket, MaxKeys: aws.Int32(int32(max))}
	if enc && !b.NoEcho {
		out.EncodingType = types.EncodingTypeUrl
	}
	code := func(s string) *string {
		if enc {
			s = Encode(s)
		}
		return aws.String(s)
	}
	for _, e := range es {
		if e.prefix {
			out.CommonPrefixes = append(out.CommonPrefixes, types.CommonPrefix{Prefix: code(e.key)})
			continue
		}
		out.Contents = append(out.Contents, types.Object{Key: code(e.key), ETag: aws.String(`"0123abc"`),
			Size: aws.Int64(int64(len(e.key))), LastModified: aws.Time(MTime), StorageClass: types.ObjectStorageClassStandard})
	}
	b.Returned.Add(int64(len(es)))
	out.KeyCount = aws.Int32(int32(len(es)))
	if more, _ := b.walk(next, prefix, delim, 1); len(more) > 0 {
		out.IsTruncated = aws.Bool(true)
		out.NextContinuationToken = aws.String(strconv.Itoa(next))
	} else {
		out.IsTruncated = aws.Bool(false)
	}
	return out, nil
}

// ListObjectVersions lists each key as one unversioned ("null") version.
func (b *Bucket) ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, _ ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.Calls.Add(1)
	prefix, delim := aws.ToString(in.Prefix), aws.ToString(in.Delimiter)
	i := b.after(aws.ToString(in.KeyMarker), prefix)
	max := maxKeys(in.MaxKeys)
	es, next := b.walk(i, prefix, delim, max)
	enc := in.EncodingType == types.EncodingTypeUrl
	out := &s3.ListObjectVersionsOutput{Name: in.Bucket}
	if enc && !b.NoEcho {
		out.EncodingType = types.EncodingTypeUrl
	}
	code := func(s string) *string {
		if enc {
			s = Encode(s)
		}
		return aws.String(s)
	}
	last := ""
	for _, e := range es {
		last = b.keys[e.next-1] // for a CommonPrefix, its last key
		if e.prefix {
			out.CommonPrefixes = append(out.CommonPrefixes, types.CommonPrefix{Prefix: code(e.key)})
			continue
		}
		out.Versions = append(out.Versions, types.ObjectVersion{Key: code(e.key), VersionId: aws.String("null"),
			IsLatest: aws.Bool(true), ETag: aws.String(`"0123abc"`), Size: aws.Int64(int64(len(e.key))),
			LastModified: aws.Time(MTime), StorageClass: types.ObjectVersionStorageClassStandard})
	}
	if more, _ := b.walk(next, prefix, delim, 1); len(more) > 0 {
		out.IsTruncated = aws.Bool(true)
		out.NextKeyMarker = code(last)
		out.NextVersionIdMarker = aws.String("null")
	} else {
		out.IsTruncated = aws.Bool(false)
	}
	return out, nil
}
