// Package inventory owns reading Amazon S3 Inventory reports as object
// records: the manifest.json that describes a report, its gzip-compressed CSV
// data files (columns named by the manifest's fileSchema, keys URL-encoded),
// the MD5 check of each data file against the manifest, the filters a
// replication job needs (replication status, storage class, prefix, latest
// version), and one "unit" line per data file so that a fleet or an EMR job
// can spread one report over many workers.
//
// Only CSV inventories are read. ORC and Parquet reports are rejected with an
// error that says so (see ErrUnsupportedFormat): configure the inventory with
// the CSV format to use it with s3pipe.
//
// Format references: "Locating your inventory list" and "Amazon S3 inventory
// list" in the Amazon S3 User Guide (manifest fields, CSV key encoding).
package inventory

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Fetcher opens one object of the bucket that holds the inventory. The CLI
// implements it with GetObject; DirFetcher reads a local copy.
type Fetcher interface {
	Open(ctx context.Context, bucket, key string) (io.ReadCloser, error)
}

// ErrUnsupportedFormat is wrapped by the error for ORC and Parquet reports.
var ErrUnsupportedFormat = errors.New("inventory format not supported")

// MaxManifestSize bounds manifest.json (a report of a billion objects lists a
// few thousand data files, about 200 bytes each).
const MaxManifestSize = 64 << 20

// Manifest is a parsed manifest.json.
type Manifest struct {
	SourceBucket      string `json:"sourceBucket"`
	DestinationBucket string `json:"destinationBucket"` // an ARN: arn:aws:s3:::name
	Version           string `json:"version"`
	CreationTimestamp string `json:"creationTimestamp"` // epoch milliseconds, as a string
	FileFormat        string `json:"fileFormat"`        // CSV, ORC or Parquet
	FileSchema        string `json:"fileSchema"`        // "Bucket, Key, VersionId, ..." for CSV
	Files             []File `json:"files"`

	// Schema is FileSchema parsed: the column index of each field.
	Schema Schema `json:"-"`
}

// File is one data file of the report.
type File struct {
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	MD5Checksum string `json:"MD5checksum"` // hex MD5 of the (compressed) data file
}

// ParseManifest reads and checks a manifest.json: the format must be CSV, the
// schema must name Bucket, Key, Size and ETag, and every data file needs a key
// and an MD5 checksum.
func ParseManifest(r io.Reader) (*Manifest, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("read inventory manifest: %w", err)
	}
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("inventory manifest: larger than %d bytes", MaxManifestSize)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("inventory manifest: not valid JSON: %w", err)
	}
	switch strings.ToUpper(m.FileFormat) {
	case "CSV":
	case "":
		return nil, errors.New("inventory manifest: no fileFormat (is this an S3 Inventory manifest.json?)")
	default:
		return nil, fmt.Errorf("%w: inventory format %s is not supported; configure the inventory with CSV", ErrUnsupportedFormat, m.FileFormat)
	}
	if m.Schema, err = ParseSchema(m.FileSchema); err != nil {
		return nil, fmt.Errorf("inventory manifest: %w", err)
	}
	for i, f := range m.Files {
		if f.Key == "" {
			return nil, fmt.Errorf("inventory manifest: files[%d] has no key", i)
		}
		if err := checkMD5Hex(f.MD5Checksum); err != nil {
			return nil, fmt.Errorf("inventory manifest: files[%d] (%s): MD5checksum: %w", i, f.Key, err)
		}
	}
	return &m, nil
}

func checkMD5Hex(s string) error {
	if len(s) != 32 {
		return fmt.Errorf("want 32 hex digits, got %q", s)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return fmt.Errorf("want 32 hex digits, got %q", s)
	}
	return nil
}

// DataBucket is the name of the bucket that holds the data files: the
// destinationBucket ARN without its "arn:aws:s3:::" prefix. (When the manifest
// was read from s3://B/..., B is the same bucket; prefer it.)
func (m *Manifest) DataBucket() string {
	b := m.DestinationBucket
	if i := strings.LastIndex(b, ":"); i >= 0 && strings.HasPrefix(b, "arn:") {
		b = b[i+1:]
	}
	return b
}

// Schema maps the inventory fields s3pipe reads to their 0-based CSV column;
// -1 means the report does not include the field.
type Schema struct {
	Columns           []string
	Bucket            int
	Key               int
	VersionID         int
	IsLatest          int
	IsDeleteMarker    int
	Size              int
	LastModified      int
	ETag              int
	StorageClass      int
	ReplicationStatus int
}

// ParseSchema parses a CSV fileSchema ("Bucket, Key, Size, ...").
func ParseSchema(s string) (Schema, error) {
	sc := Schema{Bucket: -1, Key: -1, VersionID: -1, IsLatest: -1, IsDeleteMarker: -1, Size: -1,
		LastModified: -1, ETag: -1, StorageClass: -1, ReplicationStatus: -1}
	if strings.TrimSpace(s) == "" {
		return sc, errors.New("empty fileSchema")
	}
	for i, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		sc.Columns = append(sc.Columns, name)
		var p *int
		switch name {
		case "Bucket":
			p = &sc.Bucket
		case "Key":
			p = &sc.Key
		case "VersionId":
			p = &sc.VersionID
		case "IsLatest":
			p = &sc.IsLatest
		case "IsDeleteMarker":
			p = &sc.IsDeleteMarker
		case "Size":
			p = &sc.Size
		case "LastModifiedDate":
			p = &sc.LastModified
		case "ETag":
			p = &sc.ETag
		case "StorageClass":
			p = &sc.StorageClass
		case "ReplicationStatus":
			p = &sc.ReplicationStatus
		case "":
			return sc, fmt.Errorf("fileSchema %q: empty field name at column %d", s, i+1)
		default:
			continue // fields s3pipe does not use (EncryptionStatus, ObjectLockMode, ...)
		}
		if *p >= 0 {
			return sc, fmt.Errorf("fileSchema %q: field %s appears twice", s, name)
		}
		*p = i
	}
	// s3pipe's copy tools pin every copy to the source ETag and size: a
	// report without them cannot drive a copy.
	for _, need := range []struct {
		name string
		col  int
	}{{"Bucket", sc.Bucket}, {"Key", sc.Key}, {"Size", sc.Size}, {"ETag", sc.ETag}} {
		if need.col < 0 {
			return sc, fmt.Errorf("fileSchema %q has no %s field; s3pipe needs Bucket, Key, Size and ETag (add them to the inventory's optional fields)", s, need.name)
		}
	}
	return sc, nil
}
