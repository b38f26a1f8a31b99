package complete

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"net/url"
)

// fakeS3 is an in-memory S3 with just the calls the completer makes. Part
// ETags are content MD5s; a completed object gets S3's multipart ETag.
type fakeS3 struct {
	mu       sync.Mutex
	uploads  map[string]*fakeUpload // by upload id
	objects  map[string]fakeObject  // by bucket/key
	calls    map[string]int
	order    map[string][]int32 // upload id -> part numbers as sent to Complete
	failWith map[string]error   // operation -> error to return
}

type fakeUpload struct {
	bucket, key string
	parts       map[int32]fakePart
	initiated   time.Time
}

type fakePart struct {
	etag string
	size int64
}

type fakeObject struct {
	etag string
	size int64
}

func newFake() *fakeS3 {
	return &fakeS3{uploads: map[string]*fakeUpload{}, objects: map[string]fakeObject{}, calls: map[string]int{},
		order: map[string][]int32{}, failWith: map[string]error{}}
}

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code + " (fake)"} }

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// upload creates an upload and uploads the given parts; it returns the
// part ETags and the ETag the completed object will have.
func (f *fakeS3) upload(bucket, key, id string, parts ...[]byte) (etags []string, objectETag string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := &fakeUpload{bucket: bucket, key: key, parts: map[int32]fakePart{}, initiated: time.Unix(1000, 0)}
	var all []byte
	for i, p := range parts {
		e := md5hex(p)
		u.parts[int32(i+1)] = fakePart{etag: e, size: int64(len(p))}
		etags = append(etags, e)
		b, _ := hex.DecodeString(e)
		all = append(all, b...)
	}
	f.uploads[id] = u
	return etags, fmt.Sprintf("%s-%d", md5hex(all), len(parts))
}

func (f *fakeS3) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *fakeS3) enter(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	return f.failWith[op]
}

func (f *fakeS3) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	if err := f.enter("complete"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.UploadId)
	u := f.uploads[id]
	if u == nil || u.bucket != aws.ToString(in.Bucket) || u.key != aws.ToString(in.Key) {
		return nil, apiErr("NoSuchUpload")
	}
	var all []byte
	var size int64
	var nums []int32
	for _, p := range in.MultipartUpload.Parts {
		n := aws.ToInt32(p.PartNumber)
		nums = append(nums, n)
		have, ok := u.parts[n]
		if !ok || `"`+have.etag+`"` != aws.ToString(p.ETag) {
			return nil, apiErr("InvalidPart")
		}
		b, _ := hex.DecodeString(have.etag)
		all = append(all, b...)
		size += have.size
	}
	if !slices.IsSorted(nums) {
		return nil, apiErr("InvalidPartOrder")
	}
	f.order[id] = nums
	etag := fmt.Sprintf("%s-%d", md5hex(all), len(nums))
	f.objects[u.bucket+"/"+u.key] = fakeObject{etag: etag, size: size}
	delete(f.uploads, id)
	return &s3.CompleteMultipartUploadOutput{ETag: aws.String(`"` + etag + `"`), VersionId: aws.String("v1")}, nil
}

func (f *fakeS3) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, _ ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	if err := f.enter("abort"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.uploads[aws.ToString(in.UploadId)]; !ok {
		return nil, apiErr("NoSuchUpload")
	}
	delete(f.uploads, aws.ToString(in.UploadId))
	return &s3.AbortMultipartUploadOutput{}, nil
}

func (f *fakeS3) HeadObject(ctx context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	if err := f.enter("head"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	if !ok {
		return nil, apiErr("NotFound")
	}
	return &s3.HeadObjectOutput{ETag: aws.String(`"` + o.etag + `"`), ContentLength: aws.Int64(o.size)}, nil
}

func (f *fakeS3) ListParts(ctx context.Context, in *s3.ListPartsInput, _ ...func(*s3.Options)) (*s3.ListPartsOutput, error) {
	if err := f.enter("listparts"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.uploads[aws.ToString(in.UploadId)]
	if u == nil {
		return nil, apiErr("NoSuchUpload")
	}
	out := &s3.ListPartsOutput{IsTruncated: aws.Bool(false)}
	for n, p := range u.parts {
		out.Parts = append(out.Parts, types.Part{PartNumber: aws.Int32(n), ETag: aws.String(`"` + p.etag + `"`), Size: aws.Int64(p.size)})
	}
	return out, nil
}

// ListMultipartUploads pages two uploads at a time and URL-encodes keys
// and markers like S3 with EncodingType=url.
func (f *fakeS3) ListMultipartUploads(ctx context.Context, in *s3.ListMultipartUploadsInput, _ ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error) {
	if err := f.enter("listuploads"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	type entry struct{ key, id string }
	var all []entry
	for id, u := range f.uploads {
		if u.bucket == aws.ToString(in.Bucket) && len(u.key) >= len(aws.ToString(in.Prefix)) && u.key[:len(aws.ToString(in.Prefix))] == aws.ToString(in.Prefix) {
			all = append(all, entry{u.key, id})
		}
	}
	slices.SortFunc(all, func(a, b entry) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		if a.id < b.id {
			return -1
		}
		return 1
	})
	enc := func(s string) string {
		if in.EncodingType == types.EncodingTypeUrl {
			return queryEscape(s)
		}
		return s
	}
	out := &s3.ListMultipartUploadsOutput{EncodingType: in.EncodingType, IsTruncated: aws.Bool(false)}
	km, im := aws.ToString(in.KeyMarker), aws.ToString(in.UploadIdMarker)
	for _, e := range all {
		if in.KeyMarker != nil && (e.key < km || e.key == km && e.id <= im) {
			continue
		}
		if len(out.Uploads) == 2 {
			out.IsTruncated = aws.Bool(true)
			last := out.Uploads[1]
			out.NextKeyMarker = last.Key
			out.NextUploadIdMarker = last.UploadId
			break
		}
		u := f.uploads[e.id]
		out.Uploads = append(out.Uploads, types.MultipartUpload{Key: aws.String(enc(e.key)), UploadId: aws.String(e.id), Initiated: aws.Time(u.initiated)})
	}
	return out, nil
}

func queryEscape(s string) string { return url.QueryEscape(s) }
