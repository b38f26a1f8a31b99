// Package props owns what a copy carries from its source to its destination:
// content headers, user metadata, tags, storage class, server-side
// encryption, website redirect and checksum algorithm. Both the single-part
// path (CopyObject, PutObject) and the multipart path
// (CreateMultipartUpload) take their properties from here, so no path can
// silently drop one that another keeps.
package props

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Props are the properties of one object that a copy must reproduce.
type Props struct {
	ContentType        string
	CacheControl       string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	// Expires is the raw Expires header: S3 keeps it as a string and
	// servers return values that are not valid HTTP dates unchanged.
	Expires         string
	Metadata        map[string]string
	Tagging         string // URL query form ("k1=v1&k2=v2"); "" = no tags
	TagCount        int32  // tags the source reports (-1 = unknown: ask GetObjectTagging)
	StorageClass    string // "" = STANDARD (S3 omits the header for STANDARD)
	SSE             string // "", "AES256", "aws:kms", "aws:kms:dsse"
	SSEKMSKeyID     string
	BucketKeyOn     *bool
	SSECustomer     bool // the source is SSE-C: its ETag is not content-defined
	WebsiteRedirect string
	// ChecksumAlgorithm is the additional checksum the source was written
	// with ("CRC32", "SHA256", ...), "" for none.
	ChecksumAlgorithm string
	// ChecksumType is FULL_OBJECT or COMPOSITE ("" = not told). A
	// multipart source with a full-object checksum needs its upload
	// created with that type to end with the same checksum.
	ChecksumType string
}

// FromHead reads the properties from a HeadObject response (of the object
// or of one of its parts: S3 returns the object's headers for both).
func FromHead(h *s3.HeadObjectOutput) Props {
	p := Props{
		ContentType: aws.ToString(h.ContentType), CacheControl: aws.ToString(h.CacheControl),
		ContentDisposition: aws.ToString(h.ContentDisposition), ContentEncoding: aws.ToString(h.ContentEncoding),
		ContentLanguage: aws.ToString(h.ContentLanguage), Expires: aws.ToString(h.ExpiresString),
		Metadata: h.Metadata, StorageClass: string(h.StorageClass), SSE: string(h.ServerSideEncryption),
		SSEKMSKeyID: aws.ToString(h.SSEKMSKeyId), BucketKeyOn: h.BucketKeyEnabled,
		SSECustomer: aws.ToString(h.SSECustomerAlgorithm) != "", WebsiteRedirect: aws.ToString(h.WebsiteRedirectLocation),
		ChecksumAlgorithm: checksumAlgorithm(h.ChecksumCRC32, h.ChecksumCRC32C, h.ChecksumCRC64NVME, h.ChecksumSHA1, h.ChecksumSHA256),
		ChecksumType:      string(h.ChecksumType),
		TagCount:          -1,
	}
	if h.TagCount != nil {
		p.TagCount = *h.TagCount
	}
	//lint:ignore SA1019 ExpiresString (above) is preferred; the parsed field is only a fallback.
	if e := h.Expires; p.Expires == "" && e != nil {
		p.Expires = e.UTC().Format(httpTime)
	}
	return p
}

// FromGet reads the properties from a GetObject response. A GET reports the
// tag count, so tags need a GetObjectTagging call only when it is > 0.
func FromGet(g *s3.GetObjectOutput) Props {
	p := Props{
		ContentType: aws.ToString(g.ContentType), CacheControl: aws.ToString(g.CacheControl),
		ContentDisposition: aws.ToString(g.ContentDisposition), ContentEncoding: aws.ToString(g.ContentEncoding),
		ContentLanguage: aws.ToString(g.ContentLanguage), Expires: aws.ToString(g.ExpiresString),
		Metadata: g.Metadata, StorageClass: string(g.StorageClass), SSE: string(g.ServerSideEncryption),
		SSEKMSKeyID: aws.ToString(g.SSEKMSKeyId), BucketKeyOn: g.BucketKeyEnabled,
		SSECustomer: aws.ToString(g.SSECustomerAlgorithm) != "", WebsiteRedirect: aws.ToString(g.WebsiteRedirectLocation),
		ChecksumAlgorithm: checksumAlgorithm(g.ChecksumCRC32, g.ChecksumCRC32C, g.ChecksumCRC64NVME, g.ChecksumSHA1, g.ChecksumSHA256),
		ChecksumType:      string(g.ChecksumType),
		TagCount:          aws.ToInt32(g.TagCount),
	}
	//lint:ignore SA1019 ExpiresString (above) is preferred; the parsed field is only a fallback.
	if e := g.Expires; p.Expires == "" && e != nil {
		p.Expires = e.UTC().Format(httpTime)
	}
	return p
}

const httpTime = "Mon, 02 Jan 2006 15:04:05 GMT"

func checksumAlgorithm(crc32, crc32c, crc64, sha1, sha256 *string) string {
	switch {
	case crc32 != nil && *crc32 != "":
		return string(types.ChecksumAlgorithmCrc32)
	case crc32c != nil && *crc32c != "":
		return string(types.ChecksumAlgorithmCrc32c)
	case crc64 != nil && *crc64 != "":
		return string(types.ChecksumAlgorithmCrc64nvme)
	case sha1 != nil && *sha1 != "":
		return string(types.ChecksumAlgorithmSha1)
	case sha256 != nil && *sha256 != "":
		return string(types.ChecksumAlgorithmSha256)
	}
	return ""
}

// NeedTags reports whether the tags must be fetched with GetObjectTagging.
// AWS's HeadObject does not report a tag count (TagCount -1 = unknown), so a
// HEAD-based copy always asks.
func (p *Props) NeedTags() bool { return p.TagCount != 0 && p.Tagging == "" }

// SetTags stores a GetObjectTagging result in query form.
func (p *Props) SetTags(tags []types.Tag) {
	p.Tagging = FormatTags(tags)
	p.TagCount = int32(len(tags))
}

// FormatTags encodes tags as the x-amz-tagging header value, sorted by key so
// the result is deterministic.
func FormatTags(tags []types.Tag) string {
	v := url.Values{}
	for _, t := range tags {
		v.Add(aws.ToString(t.Key), aws.ToString(t.Value))
	}
	// url.Values.Encode sorts by key and uses + for spaces, which S3 decodes
	// as a space in x-amz-tagging (it is form encoding).
	return v.Encode()
}

// ContentDefinedETag reports whether S3 defines the ETag of an object with
// these properties by its content (MD5 of the bytes, or of the part MD5s):
// true except for SSE-KMS, DSSE-KMS and SSE-C objects.
func (p *Props) ContentDefinedETag() bool {
	return !strings.HasPrefix(p.SSE, "aws:kms") && !p.SSECustomer
}

// Override is what the user asked to change; empty fields keep the source's
// value. It is plain data: the tools fill it from their flags.
type Override struct {
	ContentType        string
	CacheControl       string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	Expires            string
	Metadata           map[string]string // non-nil replaces all user metadata
	Tagging            *string           // non-nil replaces the tags ("" = none)
	StorageClass       string
	SSE                string // "AES256", "aws:kms" or "none" (no encryption header)
	SSEKMSKeyID        string // key id for objects encrypted with aws:kms at the destination
	// KMSKeyMap maps source KMS key ids to destination ones ("" key = every
	// source key).
	KMSKeyMap         map[string]string
	ChecksumAlgorithm string // "none" drops the source's checksum algorithm
}

// Flags is the flag group both s3mpplan and s3copy embed, so that a
// single-part copy and a multipart upload get the same overrides.
type Flags struct {
	ContentType        string   `help:"Set Content-Type instead of the source's." placeholder:"TYPE" group:"Properties"`
	CacheControl       string   `help:"Set Cache-Control instead of the source's." placeholder:"VALUE" group:"Properties"`
	ContentDisposition string   `help:"Set Content-Disposition instead of the source's." placeholder:"VALUE" group:"Properties"`
	ContentEncoding    string   `help:"Set Content-Encoding instead of the source's." placeholder:"VALUE" group:"Properties"`
	ContentLanguage    string   `help:"Set Content-Language instead of the source's." placeholder:"VALUE" group:"Properties"`
	Expires            string   `help:"Set Expires (an HTTP date) instead of the source's." placeholder:"DATE" group:"Properties"`
	Metadata           []string `help:"Replace all user metadata with these KEY=VALUE pairs (repeatable)." placeholder:"KEY=VALUE" group:"Properties"`
	NoMetadata         bool     `help:"Drop all user metadata." group:"Properties"`
	Tagging            *string  `help:"Replace the tags with this query string (k1=v1&k2=v2; empty = no tags)." placeholder:"TAGS" group:"Properties"`
	StorageClass       string   `help:"Set the destination storage class instead of the source's." placeholder:"CLASS" group:"Properties"`
	SSE                string   `name:"sse" help:"Destination encryption instead of the source's: AES256, aws:kms or none." enum:",AES256,aws:kms,none" default:"" group:"Properties"`
	SSEKMSKeyID        string   `name:"sse-kms-key-id" help:"KMS key id for destination objects encrypted with aws:kms." placeholder:"KEY" group:"Properties"`
	DstSSEKMSKeyID     []string `name:"dst-sse-kms-key-id" help:"Map a source KMS key id to a destination one: SRC=DST (repeatable), or one KEY for every source key." placeholder:"SRC=DST" group:"Properties"`
	ChecksumAlgorithm  string   `help:"Destination additional checksum algorithm instead of the source's (CRC32, CRC32C, CRC64NVME, SHA1, SHA256, none)." enum:",CRC32,CRC32C,CRC64NVME,SHA1,SHA256,none" default:"" group:"Properties"`
}

// Override validates the flags and returns the override they ask for.
func (f *Flags) Override() (Override, error) {
	o := Override{ContentType: f.ContentType, CacheControl: f.CacheControl, ContentDisposition: f.ContentDisposition,
		ContentEncoding: f.ContentEncoding, ContentLanguage: f.ContentLanguage, Expires: f.Expires,
		Tagging: f.Tagging, StorageClass: f.StorageClass, SSE: f.SSE, SSEKMSKeyID: f.SSEKMSKeyID,
		ChecksumAlgorithm: f.ChecksumAlgorithm}
	if f.Expires != "" {
		if _, err := time.Parse(httpTime, f.Expires); err != nil {
			return o, fmt.Errorf("--expires %q: want an HTTP date like %q", f.Expires, httpTime)
		}
	}
	if f.NoMetadata || len(f.Metadata) > 0 {
		o.Metadata = map[string]string{}
		for _, kv := range f.Metadata {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return o, fmt.Errorf("--metadata %q: want KEY=VALUE", kv)
			}
			o.Metadata[strings.ToLower(k)] = v
		}
	}
	if f.Tagging != nil && *f.Tagging != "" {
		if _, err := url.ParseQuery(*f.Tagging); err != nil {
			return o, fmt.Errorf("--tagging %q: %w", *f.Tagging, err)
		}
	}
	for _, m := range f.DstSSEKMSKeyID {
		if o.KMSKeyMap == nil {
			o.KMSKeyMap = map[string]string{}
		}
		src, dst, ok := strings.Cut(m, "=")
		if !ok {
			src, dst = "", m
		}
		if dst == "" {
			return o, errors.New("--dst-sse-kms-key-id: empty destination key id")
		}
		o.KMSKeyMap[src] = dst
	}
	return o, nil
}

// Apply returns the destination properties: the source's with the override.
func (o *Override) Apply(p Props) Props {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&p.ContentType, o.ContentType)
	set(&p.CacheControl, o.CacheControl)
	set(&p.ContentDisposition, o.ContentDisposition)
	set(&p.ContentEncoding, o.ContentEncoding)
	set(&p.ContentLanguage, o.ContentLanguage)
	set(&p.Expires, o.Expires)
	set(&p.StorageClass, o.StorageClass)
	if o.Metadata != nil {
		p.Metadata = o.Metadata
	}
	if o.Tagging != nil {
		p.Tagging = *o.Tagging
		p.TagCount = 0
	}
	// An SSE-C source is read with its key, but its copy cannot carry that
	// key: the destination gets the default (bucket) encryption.
	p.SSECustomer = false
	switch o.SSE {
	case "none":
		p.SSE, p.SSEKMSKeyID, p.BucketKeyOn = "", "", nil
	case "AES256":
		p.SSE, p.SSEKMSKeyID, p.BucketKeyOn = "AES256", "", nil
	case "aws:kms":
		p.SSE = "aws:kms"
	}
	if strings.HasPrefix(p.SSE, "aws:kms") {
		if k, ok := o.KMSKeyMap[p.SSEKMSKeyID]; ok {
			p.SSEKMSKeyID = k
		} else if k, ok := o.KMSKeyMap[""]; ok {
			p.SSEKMSKeyID = k
		}
		if o.SSEKMSKeyID != "" {
			p.SSEKMSKeyID = o.SSEKMSKeyID
		}
	}
	switch o.ChecksumAlgorithm {
	case "none":
		p.ChecksumAlgorithm, p.ChecksumType = "", ""
	case "":
	default:
		if o.ChecksumAlgorithm != p.ChecksumAlgorithm {
			p.ChecksumAlgorithm, p.ChecksumType = o.ChecksumAlgorithm, ""
		}
	}
	return p
}

// ReplacesHeaders reports whether the override changes anything that
// CopyObject's COPY metadata directive would take from the source: content
// headers, Expires, user metadata or the checksum algorithm.
func (o *Override) ReplacesHeaders() bool {
	return o.ContentType != "" || o.CacheControl != "" || o.ContentDisposition != "" || o.ContentEncoding != "" ||
		o.ContentLanguage != "" || o.Expires != "" || o.Metadata != nil || o.ChecksumAlgorithm != ""
}

// DestinationETagIsMD5 reports whether a destination written with the
// override will have a content-defined ETag. Without a HEAD of the source,
// an SSE-KMS source is not known: the caller must check again (s3copy does).
func (o *Override) DestinationETagIsMD5() bool {
	return !strings.HasPrefix(o.SSE, "aws:kms")
}

func expires(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(httpTime, s)
	if err != nil {
		// Not an HTTP date: S3 would return it as is, but the SDK can only
		// send a time. Dropping it beats failing the copy.
		return nil
	}
	return &t
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func kmsKey(p *Props) *string {
	if !strings.HasPrefix(p.SSE, "aws:kms") {
		return nil
	}
	return opt(p.SSEKMSKeyID)
}

func bucketKey(p *Props) *bool {
	if !strings.HasPrefix(p.SSE, "aws:kms") {
		return nil
	}
	return p.BucketKeyOn
}

// ToCreate sets the properties on a CreateMultipartUpload request.
func (p *Props) ToCreate(in *s3.CreateMultipartUploadInput) {
	in.ContentType, in.CacheControl = opt(p.ContentType), opt(p.CacheControl)
	in.ContentDisposition, in.ContentEncoding = opt(p.ContentDisposition), opt(p.ContentEncoding)
	in.ContentLanguage, in.Expires = opt(p.ContentLanguage), expires(p.Expires)
	in.Metadata, in.Tagging = p.Metadata, opt(p.Tagging)
	in.StorageClass = types.StorageClass(p.StorageClass)
	in.ServerSideEncryption = types.ServerSideEncryption(p.SSE)
	in.SSEKMSKeyId, in.BucketKeyEnabled = kmsKey(p), bucketKey(p)
	in.WebsiteRedirectLocation = opt(p.WebsiteRedirect)
	in.ChecksumAlgorithm = types.ChecksumAlgorithm(p.ChecksumAlgorithm)
	if p.ChecksumType == string(types.ChecksumTypeFullObject) && strings.HasPrefix(p.ChecksumAlgorithm, "CRC") {
		// A full-object checksum (a multipart upload created so, or any
		// single PutObject) stays one: the upload then ends with the
		// source's checksum value whatever its parts. S3 allows the type
		// only for the CRC algorithms; SHA ones stay composite.
		in.ChecksumType = types.ChecksumTypeFullObject
	}
}

// ToPut sets the properties on a PutObject request.
func (p *Props) ToPut(in *s3.PutObjectInput) {
	in.ContentType, in.CacheControl = opt(p.ContentType), opt(p.CacheControl)
	in.ContentDisposition, in.ContentEncoding = opt(p.ContentDisposition), opt(p.ContentEncoding)
	in.ContentLanguage, in.Expires = opt(p.ContentLanguage), expires(p.Expires)
	in.Metadata, in.Tagging = p.Metadata, opt(p.Tagging)
	in.StorageClass = types.StorageClass(p.StorageClass)
	in.ServerSideEncryption = types.ServerSideEncryption(p.SSE)
	in.SSEKMSKeyId, in.BucketKeyEnabled = kmsKey(p), bucketKey(p)
	in.WebsiteRedirectLocation = opt(p.WebsiteRedirect)
	in.ChecksumAlgorithm = types.ChecksumAlgorithm(p.ChecksumAlgorithm)
}

// ToCopy sets the properties on a CopyObject request. CopyObject keeps
// neither storage class nor encryption by itself, and with the COPY
// directive it cannot change any header; so every copy replaces the metadata
// with the exact source values. Tags are copied by the server unless the
// override replaced them.
func (p *Props) ToCopy(in *s3.CopyObjectInput, replaceTags bool) {
	in.MetadataDirective = types.MetadataDirectiveReplace
	in.ContentType, in.CacheControl = opt(p.ContentType), opt(p.CacheControl)
	in.ContentDisposition, in.ContentEncoding = opt(p.ContentDisposition), opt(p.ContentEncoding)
	in.ContentLanguage, in.Expires = opt(p.ContentLanguage), expires(p.Expires)
	in.Metadata = p.Metadata
	in.TaggingDirective = types.TaggingDirectiveCopy
	if replaceTags {
		in.TaggingDirective = types.TaggingDirectiveReplace
		in.Tagging = opt(p.Tagging)
	}
	in.StorageClass = types.StorageClass(p.StorageClass)
	in.ServerSideEncryption = types.ServerSideEncryption(p.SSE)
	in.SSEKMSKeyId, in.BucketKeyEnabled = kmsKey(p), bucketKey(p)
	in.WebsiteRedirectLocation = opt(p.WebsiteRedirect)
	in.ChecksumAlgorithm = types.ChecksumAlgorithm(p.ChecksumAlgorithm)
}

// String is a stable one-line description for logs and tests.
func (p Props) String() string {
	keys := make([]string, 0, len(p.Metadata))
	for k := range p.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "type=%q cache=%q disp=%q enc=%q lang=%q expires=%q class=%q sse=%q kms=%q redirect=%q checksum=%q/%q tags=%q meta={",
		p.ContentType, p.CacheControl, p.ContentDisposition, p.ContentEncoding, p.ContentLanguage, p.Expires,
		p.StorageClass, p.SSE, p.SSEKMSKeyID, p.WebsiteRedirect, p.ChecksumAlgorithm, p.ChecksumType, p.Tagging)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q ", k, p.Metadata[k])
	}
	b.WriteString("}")
	return b.String()
}
