//lint:file-ignore SA1019 the tests set the deprecated parsed Expires field to check the fallback.

package props

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

var expiresTime = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

const expiresHTTP = "Tue, 06 May 2031 07:08:09 GMT"

// meta has the values that break naive encoders: %, RFC 2047 unicode as
// MinIO/AWS return it, raw unicode, and an empty value.
var meta = map[string]string{"pct": "100% sure %41", "uni": "=?UTF-8?b?Z3LDvMOfZSDimIM=?=", "raw": "grüße ☃", "empty": ""}

// fullHead is a HEAD of a source that has every property set.
func fullHead() *s3.HeadObjectOutput {
	return &s3.HeadObjectOutput{
		ContentType: aws.String("text/x-test; charset=utf-8"), CacheControl: aws.String("max-age=60"),
		ContentDisposition: aws.String(`attachment; filename="a b.txt"`), ContentEncoding: aws.String("gzip"),
		ContentLanguage: aws.String("de-CH"), ExpiresString: aws.String(expiresHTTP), Expires: &expiresTime,
		Metadata: meta, StorageClass: types.StorageClassReducedRedundancy,
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("src-key"), BucketKeyEnabled: aws.Bool(true),
		WebsiteRedirectLocation: aws.String("/other/page"), ChecksumCRC32C: aws.String("yZRlqg=="), TagCount: aws.Int32(3),
	}
}

func fullProps() Props {
	return Props{ContentType: "text/x-test; charset=utf-8", CacheControl: "max-age=60",
		ContentDisposition: `attachment; filename="a b.txt"`, ContentEncoding: "gzip", ContentLanguage: "de-CH",
		Expires: expiresHTTP, Metadata: meta, TagCount: 3, StorageClass: "REDUCED_REDUNDANCY", SSE: "aws:kms",
		SSEKMSKeyID: "src-key", BucketKeyOn: aws.Bool(true), WebsiteRedirect: "/other/page", ChecksumAlgorithm: "CRC32C"}
}

func TestFromHeadAndGet(t *testing.T) {
	h := fullHead()
	g := &s3.GetObjectOutput{ContentType: h.ContentType, CacheControl: h.CacheControl, ContentDisposition: h.ContentDisposition,
		ContentEncoding: h.ContentEncoding, ContentLanguage: h.ContentLanguage, ExpiresString: h.ExpiresString, Expires: h.Expires,
		Metadata: h.Metadata, StorageClass: h.StorageClass, ServerSideEncryption: h.ServerSideEncryption, SSEKMSKeyId: h.SSEKMSKeyId,
		BucketKeyEnabled: h.BucketKeyEnabled, WebsiteRedirectLocation: h.WebsiteRedirectLocation, ChecksumCRC32C: h.ChecksumCRC32C,
		TagCount: h.TagCount}
	want := fullProps()
	if got := FromHead(h); !reflect.DeepEqual(got, want) {
		t.Errorf("FromHead:\n got %s\nwant %s", got, want)
	}
	if got := FromGet(g); !reflect.DeepEqual(got, want) {
		t.Errorf("FromGet:\n got %s\nwant %s", got, want)
	}

	// A HEAD without a tag count (AWS) asks for tags; a GET without one
	// (no tags) does not.
	if p := FromHead(&s3.HeadObjectOutput{}); p.TagCount != -1 || !p.NeedTags() {
		t.Errorf("HEAD without tag count: TagCount %d NeedTags %v", p.TagCount, p.NeedTags())
	}
	if p := FromGet(&s3.GetObjectOutput{}); p.TagCount != 0 || p.NeedTags() {
		t.Errorf("GET without tag count: TagCount %d NeedTags %v", p.TagCount, p.NeedTags())
	}
	// Expires: the raw string wins; the parsed time only when no string.
	if p := FromHead(&s3.HeadObjectOutput{ExpiresString: aws.String("not a date")}); p.Expires != "not a date" {
		t.Errorf("raw Expires %q", p.Expires)
	}
	if p := FromGet(&s3.GetObjectOutput{Expires: &expiresTime}); p.Expires != expiresHTTP {
		t.Errorf("Expires from time: %q", p.Expires)
	}
	// SSE-C: ETag not content-defined.
	if p := FromHead(&s3.HeadObjectOutput{SSECustomerAlgorithm: aws.String("AES256")}); !p.SSECustomer || p.ContentDefinedETag() {
		t.Errorf("SSE-C source: %+v", p)
	}
}

func TestChecksumType(t *testing.T) {
	cases := []struct {
		algo, typ string
		flag      string
		want      types.ChecksumType
	}{
		{"CRC32", "FULL_OBJECT", "", types.ChecksumTypeFullObject},
		{"CRC64NVME", "FULL_OBJECT", "", types.ChecksumTypeFullObject},
		{"CRC32C", "COMPOSITE", "", ""},
		{"SHA256", "FULL_OBJECT", "", ""}, // S3 has no full-object SHA for multipart
		{"CRC32", "FULL_OBJECT", "none", ""},
		{"CRC32", "FULL_OBJECT", "CRC32C", ""}, // a new algorithm: the default type
		{"CRC32", "FULL_OBJECT", "CRC32", types.ChecksumTypeFullObject},
		{"", "", "", ""},
	}
	for _, c := range cases {
		h := &s3.HeadObjectOutput{ChecksumType: types.ChecksumType(c.typ)}
		if c.algo != "" {
			h.ChecksumCRC32, h.ChecksumCRC64NVME, h.ChecksumCRC32C, h.ChecksumSHA256 = nil, nil, nil, nil
			v := aws.String("x")
			switch c.algo {
			case "CRC32":
				h.ChecksumCRC32 = v
			case "CRC32C":
				h.ChecksumCRC32C = v
			case "CRC64NVME":
				h.ChecksumCRC64NVME = v
			case "SHA256":
				h.ChecksumSHA256 = v
			}
		}
		o, err := (&Flags{ChecksumAlgorithm: c.flag}).Override()
		if err != nil {
			t.Fatal(err)
		}
		p := o.Apply(FromHead(h))
		var in s3.CreateMultipartUploadInput
		p.ToCreate(&in)
		if in.ChecksumType != c.want {
			t.Errorf("%s/%s with --checksum-algorithm %q: type %q, want %q", c.algo, c.typ, c.flag, in.ChecksumType, c.want)
		}
	}
}

func TestChecksumAlgorithmCarried(t *testing.T) {
	v := aws.String("x")
	cases := []struct {
		head *s3.HeadObjectOutput
		want string
	}{
		{&s3.HeadObjectOutput{}, ""},
		{&s3.HeadObjectOutput{ChecksumCRC32: aws.String("")}, ""},
		{&s3.HeadObjectOutput{ChecksumCRC32: v}, "CRC32"},
		{&s3.HeadObjectOutput{ChecksumCRC32C: v}, "CRC32C"},
		{&s3.HeadObjectOutput{ChecksumCRC64NVME: v}, "CRC64NVME"},
		{&s3.HeadObjectOutput{ChecksumSHA1: v}, "SHA1"},
		{&s3.HeadObjectOutput{ChecksumSHA256: aws.String("x-3")}, "SHA256"},
	}
	for _, c := range cases {
		p := FromHead(c.head)
		if p.ChecksumAlgorithm != c.want {
			t.Errorf("%+v: algorithm %q, want %q", c.head, p.ChecksumAlgorithm, c.want)
		}
		var cr s3.CreateMultipartUploadInput
		var put s3.PutObjectInput
		var cp s3.CopyObjectInput
		p.ToCreate(&cr)
		p.ToPut(&put)
		p.ToCopy(&cp, false)
		for _, got := range []types.ChecksumAlgorithm{cr.ChecksumAlgorithm, put.ChecksumAlgorithm, cp.ChecksumAlgorithm} {
			if string(got) != c.want {
				t.Errorf("%s: request algorithm %q, want %q", c.want, got, c.want)
			}
		}
	}
}

// TestToRequests: the three request kinds carry exactly the same values, so
// the single-part and the multipart path cannot drift apart.
func TestToRequests(t *testing.T) {
	p := fullProps()
	p.Tagging = "a=1&b=x+y"
	var cr s3.CreateMultipartUploadInput
	var put s3.PutObjectInput
	var cp s3.CopyObjectInput
	p.ToCreate(&cr)
	p.ToPut(&put)
	p.ToCopy(&cp, true)
	type fields struct {
		ContentType, CacheControl, ContentDisposition, ContentEncoding, ContentLanguage *string
		Expires                                                                         *time.Time
		Metadata                                                                        map[string]string
		Tagging                                                                         *string
		StorageClass                                                                    types.StorageClass
		SSE                                                                             types.ServerSideEncryption
		KMS                                                                             *string
		BucketKey                                                                       *bool
		Redirect                                                                        *string
		Checksum                                                                        types.ChecksumAlgorithm
	}
	want := fields{aws.String("text/x-test; charset=utf-8"), aws.String("max-age=60"), aws.String(`attachment; filename="a b.txt"`),
		aws.String("gzip"), aws.String("de-CH"), &expiresTime, meta, aws.String("a=1&b=x+y"), types.StorageClassReducedRedundancy,
		types.ServerSideEncryptionAwsKms, aws.String("src-key"), aws.Bool(true), aws.String("/other/page"), types.ChecksumAlgorithmCrc32c}
	got := map[string]fields{
		"create": {cr.ContentType, cr.CacheControl, cr.ContentDisposition, cr.ContentEncoding, cr.ContentLanguage, cr.Expires, cr.Metadata,
			cr.Tagging, cr.StorageClass, cr.ServerSideEncryption, cr.SSEKMSKeyId, cr.BucketKeyEnabled, cr.WebsiteRedirectLocation, cr.ChecksumAlgorithm},
		"put": {put.ContentType, put.CacheControl, put.ContentDisposition, put.ContentEncoding, put.ContentLanguage, put.Expires, put.Metadata,
			put.Tagging, put.StorageClass, put.ServerSideEncryption, put.SSEKMSKeyId, put.BucketKeyEnabled, put.WebsiteRedirectLocation, put.ChecksumAlgorithm},
		"copy": {cp.ContentType, cp.CacheControl, cp.ContentDisposition, cp.ContentEncoding, cp.ContentLanguage, cp.Expires, cp.Metadata,
			cp.Tagging, cp.StorageClass, cp.ServerSideEncryption, cp.SSEKMSKeyId, cp.BucketKeyEnabled, cp.WebsiteRedirectLocation, cp.ChecksumAlgorithm},
	}
	for name, g := range got {
		if !reflect.DeepEqual(g, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, g, want)
		}
	}
	if cp.MetadataDirective != types.MetadataDirectiveReplace || cp.TaggingDirective != types.TaggingDirectiveReplace {
		t.Errorf("copy directives %s %s", cp.MetadataDirective, cp.TaggingDirective)
	}
	// Without replaced tags the server copies them; no Tagging header.
	var cp2 s3.CopyObjectInput
	p.ToCopy(&cp2, false)
	if cp2.TaggingDirective != types.TaggingDirectiveCopy || cp2.Tagging != nil {
		t.Errorf("copy without tag override: %s %v", cp2.TaggingDirective, cp2.Tagging)
	}

	// An empty Props sends no header at all (STANDARD, no encryption
	// header: the bucket default applies).
	var e Props
	var ecr s3.CreateMultipartUploadInput
	e.ToCreate(&ecr)
	if !reflect.DeepEqual(ecr, s3.CreateMultipartUploadInput{}) {
		t.Errorf("empty props set fields: %+v", ecr)
	}
	// An Expires that is not an HTTP date cannot be sent by the SDK: dropped.
	e.Expires = "not a date"
	var eput s3.PutObjectInput
	e.ToPut(&eput)
	if eput.Expires != nil {
		t.Errorf("invalid Expires sent as %v", eput.Expires)
	}
}

func TestSSE(t *testing.T) {
	kms := func(key string) Props { return Props{SSE: "aws:kms", SSEKMSKeyID: key, BucketKeyOn: aws.Bool(true)} }
	cases := []struct {
		name      string
		src       Props
		flags     Flags
		sse, key  string
		bucketKey bool
	}{
		{"SSE-S3 stays SSE-S3", Props{SSE: "AES256"}, Flags{}, "AES256", "", false},
		{"SSE-S3 ignores the KMS map", Props{SSE: "AES256"}, Flags{DstSSEKMSKeyID: []string{"dst-key"}}, "AES256", "", false},
		{"SSE-S3 with a stray key id sends none", Props{SSE: "AES256", SSEKMSKeyID: "k"}, Flags{}, "AES256", "", false},
		{"SSE-KMS keeps its key", kms("src-key"), Flags{}, "aws:kms", "src-key", true},
		{"SSE-KMS mapped SRC=DST", kms("src-key"), Flags{DstSSEKMSKeyID: []string{"other=x", "src-key=dst-key"}}, "aws:kms", "dst-key", true},
		{"SSE-KMS unmapped key kept", kms("src-key"), Flags{DstSSEKMSKeyID: []string{"other=x"}}, "aws:kms", "src-key", true},
		{"SSE-KMS one key for all", kms("src-key"), Flags{DstSSEKMSKeyID: []string{"dst-key"}}, "aws:kms", "dst-key", true},
		{"SSE-KMS exact mapping beats the catch-all", kms("src-key"), Flags{DstSSEKMSKeyID: []string{"all", "src-key=dst-key"}}, "aws:kms", "dst-key", true},
		{"SSE-KMS key ARN with = in the map value", kms("arn:k"), Flags{DstSSEKMSKeyID: []string{"arn:k=arn:aws:kms:r:1:key/x"}}, "aws:kms", "arn:aws:kms:r:1:key/x", true},
		{"DSSE keeps its key", Props{SSE: "aws:kms:dsse", SSEKMSKeyID: "k"}, Flags{}, "aws:kms:dsse", "k", false},
		{"--sse-kms-key-id wins", kms("src-key"), Flags{SSEKMSKeyID: "forced", DstSSEKMSKeyID: []string{"dst-key"}}, "aws:kms", "forced", true},
		{"--sse AES256 from KMS", kms("src-key"), Flags{SSE: "AES256"}, "AES256", "", false},
		{"--sse none", kms("src-key"), Flags{SSE: "none"}, "", "", false},
		{"--sse aws:kms from plain", Props{}, Flags{SSE: "aws:kms", SSEKMSKeyID: "k2"}, "aws:kms", "k2", false},
		{"--sse aws:kms without key: bucket/default key", Props{SSE: "AES256"}, Flags{SSE: "aws:kms"}, "aws:kms", "", false},
		{"SSE-C source gets the bucket default", Props{SSECustomer: true}, Flags{}, "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := c.flags.Override()
			if err != nil {
				t.Fatal(err)
			}
			d := o.Apply(c.src)
			var cr s3.CreateMultipartUploadInput
			var put s3.PutObjectInput
			var cp s3.CopyObjectInput
			d.ToCreate(&cr)
			d.ToPut(&put)
			d.ToCopy(&cp, false)
			for _, got := range []struct {
				sse types.ServerSideEncryption
				key *string
				bk  *bool
			}{{cr.ServerSideEncryption, cr.SSEKMSKeyId, cr.BucketKeyEnabled}, {put.ServerSideEncryption, put.SSEKMSKeyId, put.BucketKeyEnabled},
				{cp.ServerSideEncryption, cp.SSEKMSKeyId, cp.BucketKeyEnabled}} {
				if string(got.sse) != c.sse || aws.ToString(got.key) != c.key || (got.key != nil) != (c.key != "") || aws.ToBool(got.bk) != c.bucketKey {
					t.Errorf("sse %q key %v bucket key %v; want %q %q %v", got.sse, aws.ToString(got.key), aws.ToBool(got.bk), c.sse, c.key, c.bucketKey)
				}
			}
			if d.SSECustomer {
				t.Error("SSE-C survives Apply")
			}
		})
	}
}

func TestOverrideFlags(t *testing.T) {
	tags := "a b=c&d"
	none := ""
	cases := []struct {
		name  string
		flags Flags
		check func(p Props) bool
	}{
		{"none keeps everything", Flags{}, func(p Props) bool { return reflect.DeepEqual(p, fullProps()) }},
		{"--content-type", Flags{ContentType: "x/y"}, func(p Props) bool { return p.ContentType == "x/y" && p.CacheControl == "max-age=60" }},
		{"--cache-control", Flags{CacheControl: "no-store"}, func(p Props) bool { return p.CacheControl == "no-store" }},
		{"--content-disposition", Flags{ContentDisposition: "inline"}, func(p Props) bool { return p.ContentDisposition == "inline" }},
		{"--content-encoding", Flags{ContentEncoding: "br"}, func(p Props) bool { return p.ContentEncoding == "br" }},
		{"--content-language", Flags{ContentLanguage: "fr"}, func(p Props) bool { return p.ContentLanguage == "fr" }},
		{"--expires", Flags{Expires: "Wed, 01 Jan 2020 00:00:00 GMT"}, func(p Props) bool { return p.Expires == "Wed, 01 Jan 2020 00:00:00 GMT" }},
		{"--metadata replaces all, keys lowercased", Flags{Metadata: []string{"Key=v=w", "pct=50%"}}, func(p Props) bool {
			return reflect.DeepEqual(p.Metadata, map[string]string{"key": "v=w", "pct": "50%"})
		}},
		{"--metadata empty value", Flags{Metadata: []string{"k="}}, func(p Props) bool { return reflect.DeepEqual(p.Metadata, map[string]string{"k": ""}) }},
		{"--no-metadata", Flags{NoMetadata: true}, func(p Props) bool { return p.Metadata != nil && len(p.Metadata) == 0 }},
		{"--tagging", Flags{Tagging: &tags}, func(p Props) bool { return p.Tagging == tags && !p.NeedTags() }},
		{"--tagging ''", Flags{Tagging: &none}, func(p Props) bool { return p.Tagging == "" && p.TagCount == 0 && !p.NeedTags() }},
		{"--storage-class", Flags{StorageClass: "STANDARD_IA"}, func(p Props) bool { return p.StorageClass == "STANDARD_IA" }},
		{"--checksum-algorithm none", Flags{ChecksumAlgorithm: "none"}, func(p Props) bool { return p.ChecksumAlgorithm == "" }},
		{"--checksum-algorithm SHA256", Flags{ChecksumAlgorithm: "SHA256"}, func(p Props) bool { return p.ChecksumAlgorithm == "SHA256" }},
		{"--sse none", Flags{SSE: "none"}, func(p Props) bool { return p.SSE == "" && p.SSEKMSKeyID == "" && p.BucketKeyOn == nil }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := c.flags.Override()
			if err != nil {
				t.Fatal(err)
			}
			src := fullProps()
			d := o.Apply(src)
			if !c.check(d) {
				t.Errorf("got %s", d)
			}
			if !reflect.DeepEqual(src, fullProps()) {
				t.Error("Apply changed the source's props")
			}
			// There is no flag for the redirect: it always passes.
			if d.WebsiteRedirect != "/other/page" {
				t.Errorf("website redirect lost: %q", d.WebsiteRedirect)
			}
		})
	}
}

func TestOverrideErrors(t *testing.T) {
	bad := "a=%zz"
	cases := []struct {
		flags Flags
		want  string
	}{
		{Flags{Expires: "tomorrow"}, "--expires"},
		{Flags{Metadata: []string{"novalue"}}, "--metadata"},
		{Flags{Metadata: []string{"=v"}}, "--metadata"},
		{Flags{Tagging: &bad}, "--tagging"},
		{Flags{DstSSEKMSKeyID: []string{"src="}}, "--dst-sse-kms-key-id"},
	}
	for _, c := range cases {
		if _, err := c.flags.Override(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one naming %s", c.flags, err, c.want)
		}
	}
}

func TestFormatTags(t *testing.T) {
	cases := []struct {
		tags []types.Tag
		want string
	}{
		{nil, ""},
		{[]types.Tag{{Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("a"), Value: aws.String("1")}}, "a=1&b=2"},
		{[]types.Tag{{Key: aws.String("note"), Value: aws.String("a b+c")}}, "note=a+b%2Bc"},
		{[]types.Tag{{Key: aws.String("k&=?"), Value: aws.String("v&w=x%y")}}, "k%26%3D%3F=v%26w%3Dx%25y"},
		{[]types.Tag{{Key: aws.String("path"), Value: aws.String("x/y:z")}}, "path=x%2Fy%3Az"},
		{[]types.Tag{{Key: aws.String("ü"), Value: aws.String("☃")}}, "%C3%BC=%E2%98%83"},
		{[]types.Tag{{Key: aws.String("empty"), Value: aws.String("")}}, "empty="},
	}
	for _, c := range cases {
		got := FormatTags(c.tags)
		if got != c.want {
			t.Errorf("FormatTags(%v) = %q, want %q", c.tags, got, c.want)
		}
		// S3 reads x-amz-tagging as form data: decoding gives the tags back.
		q, err := url.ParseQuery(got)
		if err != nil || len(q) != len(c.tags) {
			t.Errorf("%q does not decode: %v %v", got, q, err)
		}
		for _, tg := range c.tags {
			if q.Get(*tg.Key) != *tg.Value {
				t.Errorf("%q: tag %q decodes to %q, want %q", got, *tg.Key, q.Get(*tg.Key), *tg.Value)
			}
		}
	}
	var p Props
	p.SetTags([]types.Tag{{Key: aws.String("a"), Value: aws.String("1")}})
	if p.Tagging != "a=1" || p.TagCount != 1 || p.NeedTags() {
		t.Errorf("SetTags: %+v", p)
	}
}

func TestDestinationETagIsMD5(t *testing.T) {
	for sse, want := range map[string]bool{"": true, "none": true, "AES256": true, "aws:kms": false} {
		o := Override{SSE: sse}
		if o.DestinationETagIsMD5() != want {
			t.Errorf("--sse %q: %v", sse, !want)
		}
	}
	for _, p := range []Props{{SSE: "aws:kms"}, {SSE: "aws:kms:dsse"}, {SSECustomer: true}} {
		if p.ContentDefinedETag() {
			t.Errorf("%+v: content-defined", p)
		}
	}
}
