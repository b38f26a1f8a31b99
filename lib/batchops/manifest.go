// Package batchops owns interoperation with S3 Batch Operations: writing a
// Batch Operations CSV manifest (bucket,key[,versionId] with URL-encoded keys)
// from object records, reading such manifests back, reading a job's
// completion report (its manifest.json and result CSV files) so the failed
// tasks can be re-driven with s3pipe, and resolving a (bucket, key, version)
// into a full object record with HeadObject, because neither a manifest nor a
// report carries the ETag and size that s3pipe's copy tools pin every copy to.
//
// Format references (Amazon S3 User Guide): "Creating an S3 Batch Operations
// job" (manifest: "Object keys must be URL-encoded", "either include version
// IDs for all objects or omit version IDs for all objects") and "S3 Batch
// Operations completion reports".
package batchops

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/s3pipe/s3pipe/lib/record"
)

// EncodeKey percent-encodes every byte of key except the unreserved
// characters (A-Z a-z 0-9 - _ . ~) and "/". A space becomes %20 and a "+"
// becomes %2B, so the result decodes to the same key whether the reader
// treats "+" as a space (query decoding) or not (path decoding), and it never
// contains a comma, quote or line break.
func EncodeKey(key string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

// ManifestWriter writes a Batch Operations CSV manifest.
type ManifestWriter struct {
	w        *bufio.Writer
	versions bool
	bucket   string
	err      error

	Written              int64
	SkippedDeleteMarkers int64 // delete markers are not objects a job can act on
}

// NewManifestWriter writes to w. With versions, every line carries the
// record's version id (Batch Operations requires all or none); bucket is
// used for records whose bucket column is NULL.
func NewManifestWriter(w io.Writer, versions bool, bucket string) *ManifestWriter {
	return &ManifestWriter{w: bufio.NewWriterSize(w, 256<<10), versions: versions, bucket: bucket}
}

// Write appends one manifest line for o.
func (m *ManifestWriter) Write(o *record.Object) error {
	if m.err != nil {
		return m.err
	}
	if o.DeleteMarker {
		m.SkippedDeleteMarkers++
		return nil
	}
	bucket := o.Bucket
	if bucket == "" {
		bucket = m.bucket
	}
	if bucket == "" {
		return fmt.Errorf("batch manifest: object %q has no bucket (give a default bucket)", o.Key)
	}
	if strings.ContainsAny(bucket, ",\"\r\n") {
		return fmt.Errorf("batch manifest: bucket %q cannot be written to a CSV manifest", bucket)
	}
	line := bucket + "," + EncodeKey(o.Key)
	if m.versions {
		if o.VersionID == "" {
			return fmt.Errorf("batch manifest: s3://%s/%s has no version id; list with versions or write the manifest without version ids", bucket, o.Key)
		}
		if strings.ContainsAny(o.VersionID, ",\"\r\n") {
			return fmt.Errorf("batch manifest: s3://%s/%s: version id %q cannot be written to a CSV manifest", bucket, o.Key, o.VersionID)
		}
		line += "," + o.VersionID
	}
	if _, err := m.w.WriteString(line + "\n"); err != nil {
		m.err = err
		return err
	}
	m.Written++
	return nil
}

// Flush writes buffered lines out.
func (m *ManifestWriter) Flush() error {
	if m.err != nil {
		return m.err
	}
	m.err = m.w.Flush()
	return m.err
}

// Entry is one line of a Batch Operations CSV manifest.
type Entry struct {
	Bucket, Key, VersionID string
}

// ManifestReader reads a Batch Operations CSV manifest (2 or 3 columns,
// URL-encoded keys).
type ManifestReader struct {
	r *csv.Reader
}

// NewManifestReader reads from r.
func NewManifestReader(r io.Reader) *ManifestReader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return &ManifestReader{r: cr}
}

// Read returns the next entry, or io.EOF.
func (m *ManifestReader) Read() (Entry, error) {
	f, err := m.r.Read()
	if err != nil {
		if err == io.EOF {
			return Entry{}, err
		}
		return Entry{}, fmt.Errorf("batch manifest: %w", err)
	}
	line, _ := m.r.FieldPos(0)
	if len(f) != 2 && len(f) != 3 {
		return Entry{}, fmt.Errorf("batch manifest: line %d: want bucket,key[,versionId], got %d fields", line, len(f))
	}
	if f[0] == "" || f[1] == "" {
		return Entry{}, fmt.Errorf("batch manifest: line %d: empty bucket or key", line)
	}
	key, err := url.QueryUnescape(f[1])
	if err != nil {
		return Entry{}, fmt.Errorf("batch manifest: line %d: key %q: bad URL encoding: %w", line, f[1], err)
	}
	e := Entry{Bucket: f[0], Key: key}
	if len(f) == 3 {
		e.VersionID = f[2]
	}
	return e, nil
}
