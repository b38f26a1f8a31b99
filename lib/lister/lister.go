// Package lister owns listing units of a bucket: one Campanile or key-range
// unit (lib/partfile) becomes a stream of object records, with
// ListObjectsV2 or ListObjectVersions, URL-encoded keys decoded. Run lists
// many units concurrently and writes each unit's records contiguously in
// input order, in bounded memory.
package lister

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3pipe/s3pipe/lib/inventory"
	"github.com/s3pipe/s3pipe/lib/partfile"
	"github.com/s3pipe/s3pipe/lib/record"
)

// VersionsAPIClient is the one call of the S3 client that version listing
// needs (the SDK has no such interface for ListObjectVersions).
type VersionsAPIClient interface {
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, optFns ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
}

// Client is what a Lister needs from S3.
type Client interface {
	s3.ListObjectsV2APIClient
	VersionsAPIClient
}

// Lister lists units of one bucket.
type Lister struct {
	Client   Client
	Bucket   string
	Versions bool  // ListObjectVersions: every version and delete marker
	MaxKeys  int32 // page size; 0 = the server's default (1000)

	// Inventory reads an inventory unit (one data file of an S3 Inventory
	// report) instead of listing; nil rejects inventory units. Run calls it
	// from several workers at once, so it must be safe for concurrent use
	// (one inventory.Reader per call).
	Inventory func(ctx context.Context, u inventory.Unit, emit Emit) error
}

// Emit receives each listed record. The record is reused after Emit returns.
type Emit func(*record.Object) error

// List lists one unit in key order (an inventory unit: in the data file's
// order). A Campanile unit with a delimiter emits
// only the objects directly under the prefix (never CommonPrefixes); a Range
// unit stops paging at the first key past Until.
func (l *Lister) List(ctx context.Context, u partfile.Unit, emit Emit) error {
	if u.Kind == partfile.Inventory {
		if l.Inventory == nil {
			return fmt.Errorf("inventory unit: no inventory reader configured")
		}
		return l.Inventory(ctx, u.Inventory, emit)
	}
	if u.Kind == partfile.Range && u.HasUntil && u.Until < u.Prefix {
		return nil // every key with the prefix sorts at or after the prefix
	}
	if l.Versions {
		return l.listVersions(ctx, u, emit)
	}
	return l.listObjects(ctx, u, emit)
}

func (l *Lister) maxKeys() *int32 {
	if l.MaxKeys > 0 {
		return aws.Int32(l.MaxKeys)
	}
	return nil
}

// nonEmpty returns nil for "": S3 treats an empty parameter as absent, but
// leaving it out keeps requests minimal and fakes simple.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func (l *Lister) listObjects(ctx context.Context, u partfile.Unit, emit Emit) error {
	in := &s3.ListObjectsV2Input{
		Bucket:       aws.String(l.Bucket),
		Prefix:       nonEmpty(u.Prefix),
		EncodingType: types.EncodingTypeUrl,
		MaxKeys:      l.maxKeys(),
	}
	if u.Kind == partfile.Campanile {
		in.Delimiter = nonEmpty(u.Delimiter)
	} else {
		// StartAfter = AFTER; keys before the prefix are excluded by Prefix.
		in.StartAfter = nonEmpty(u.After)
	}
	rec := record.Object{Bucket: l.Bucket}
	for page := 1; ; page++ {
		out, err := l.Client.ListObjectsV2(ctx, in)
		if err != nil {
			return fmt.Errorf("list objects page %d: %w", page, err)
		}
		encoded := out.EncodingType == types.EncodingTypeUrl
		for i := range out.Contents {
			o := &out.Contents[i]
			key, err := decode(o.Key, encoded)
			if err != nil {
				return fmt.Errorf("list objects page %d: %w", page, err)
			}
			if u.Kind == partfile.Range && !u.Contains(key) {
				if key > u.After {
					return nil // past UNTIL: stop, do not list further
				}
				continue // cannot happen with StartAfter; be safe anyway
			}
			rec.Key = key
			rec.ETag = unquote(aws.ToString(o.ETag))
			rec.Size = aws.ToInt64(o.Size)
			rec.MTime = utc(o.LastModified)
			rec.StorageClass = string(o.StorageClass)
			if err := emit(&rec); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		if aws.ToString(out.NextContinuationToken) == "" {
			return fmt.Errorf("list objects page %d: truncated listing without a continuation token", page)
		}
		in.ContinuationToken = out.NextContinuationToken
		in.StartAfter = nil
	}
}

func (l *Lister) listVersions(ctx context.Context, u partfile.Unit, emit Emit) error {
	in := &s3.ListObjectVersionsInput{
		Bucket:       aws.String(l.Bucket),
		Prefix:       nonEmpty(u.Prefix),
		EncodingType: types.EncodingTypeUrl,
		MaxKeys:      l.maxKeys(),
	}
	if u.Kind == partfile.Campanile {
		in.Delimiter = nonEmpty(u.Delimiter)
	} else {
		// KeyMarker without VersionIdMarker starts after every version of
		// that key, which is exactly AFTER's exclusive bound.
		in.KeyMarker = nonEmpty(u.After)
	}
	var recs []record.Object
	for page := 1; ; page++ {
		out, err := l.Client.ListObjectVersions(ctx, in)
		if err != nil {
			return fmt.Errorf("list object versions page %d: %w", page, err)
		}
		encoded := out.EncodingType == types.EncodingTypeUrl
		recs, err = l.versionRecords(recs[:0], out, encoded)
		if err != nil {
			return fmt.Errorf("list object versions page %d: %w", page, err)
		}
		for i := range recs {
			r := &recs[i]
			if u.Kind == partfile.Range && !u.Contains(r.Key) {
				if r.Key > u.After {
					return nil
				}
				continue
			}
			if err := emit(r); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		// With EncodingType=url, S3 encodes NextKeyMarker like the keys.
		next, err := decode(out.NextKeyMarker, encoded)
		if err != nil {
			return fmt.Errorf("list object versions page %d: next key marker: %w", page, err)
		}
		if next == "" {
			return fmt.Errorf("list object versions page %d: truncated listing without a next key marker", page)
		}
		in.KeyMarker = aws.String(next)
		in.VersionIdMarker = out.NextVersionIdMarker
	}
}

// versionRecords merges a page's versions and delete markers back into the
// server's order (key ascending, newest first): the XML interleaves them but
// the SDK returns two lists.
func (l *Lister) versionRecords(recs []record.Object, out *s3.ListObjectVersionsOutput, encoded bool) ([]record.Object, error) {
	vs, ds := out.Versions, out.DeleteMarkers
	for len(vs) > 0 || len(ds) > 0 {
		var r record.Object
		useV := len(ds) == 0
		if !useV && len(vs) > 0 {
			useV = versionFirst(&vs[0], &ds[0], encoded)
		}
		var (
			key *string
			id  *string
		)
		if useV {
			v := &vs[0]
			vs = vs[1:]
			key, id = v.Key, v.VersionId
			r.ETag = unquote(aws.ToString(v.ETag))
			r.Size = aws.ToInt64(v.Size)
			r.MTime = utc(v.LastModified)
			r.StorageClass = string(v.StorageClass)
			r.IsLatest = boolCol(v.IsLatest)
		} else {
			d := &ds[0]
			ds = ds[1:]
			key, id = d.Key, d.VersionId
			r.MTime = utc(d.LastModified)
			r.IsLatest = boolCol(d.IsLatest)
			r.DeleteMarker = true
		}
		k, err := decode(key, encoded)
		if err != nil {
			return recs, err
		}
		r.Key = k
		r.VersionID = aws.ToString(id)
		if r.VersionID == "" {
			// S3 names the version of an object written while versioning
			// was off "null"; keep a version-aware row non-NULL.
			r.VersionID = "null"
		}
		r.Bucket = l.Bucket
		recs = append(recs, r)
	}
	return recs, nil
}

// versionFirst reports whether a version comes before a delete marker: by
// key, then newest first, then the latest first.
func versionFirst(v *types.ObjectVersion, d *types.DeleteMarkerEntry, encoded bool) bool {
	vk, dk := aws.ToString(v.Key), aws.ToString(d.Key)
	if vk != dk {
		if !encoded {
			return vk < dk
		}
		return decodedLess(vk, dk)
	}
	vt, dt := aws.ToTime(v.LastModified), aws.ToTime(d.LastModified)
	if !vt.Equal(dt) {
		return vt.After(dt)
	}
	return aws.ToBool(v.IsLatest)
}

// decodedLess compares two keys as S3 orders them: by their decoded bytes.
// Percent-encoding does not keep byte order ('%' sorts before letters), so
// compare decoded keys; undecodable keys fall back to their raw text.
func decodedLess(a, b string) bool {
	da, errA := url.QueryUnescape(a)
	db, errB := url.QueryUnescape(b)
	if errA != nil || errB != nil {
		return a < b
	}
	return da < db
}

func boolCol(b *bool) record.Bool {
	switch {
	case b == nil:
		return record.BoolNull
	case *b:
		return record.BoolTrue
	}
	return record.BoolFalse
}

// decode undoes EncodingType=url when the response says it applied it
// (S3 echoes EncodingType when it encoded keys, prefixes and markers). A
// space arrives as '+', hence QueryUnescape rather than PathUnescape.
func decode(s *string, encoded bool) (string, error) {
	v := aws.ToString(s)
	if !encoded {
		return v, nil
	}
	d, err := url.QueryUnescape(v)
	if err != nil {
		return "", fmt.Errorf("decode url-encoded key %q: %w", v, err)
	}
	return d, nil
}

func unquote(etag string) string {
	return strings.TrimSuffix(strings.TrimPrefix(etag, `"`), `"`)
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
