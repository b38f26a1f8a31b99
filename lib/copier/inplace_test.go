package copier_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3pipe/s3pipe/lib/copier"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/planner"
	"github.com/s3pipe/s3pipe/lib/props"
	"github.com/s3pipe/s3pipe/lib/record"
)

// fakeS3 is one object (6 GiB: too big to make here) under object lock,
// with an ACL; it records the requests an in-place copy makes.
type fakeS3 struct {
	copier.API // nil: a call not faked here panics the test
	mu         sync.Mutex
	size       int64
	creates    []*s3.CreateMultipartUploadInput
	copies     []*s3.CopyObjectInput
	partCopies []*s3.UploadPartCopyInput
}

var lockUntil = time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)

func (f *fakeS3) HeadObject(ctx context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(f.size), ETag: aws.String(`"0123456789abcdef0123456789abcdef"`),
		ContentType: aws.String("video/mp4"), CacheControl: aws.String("no-cache"), Metadata: map[string]string{"camera": "x"},
		StorageClass: types.StorageClassStandardIa, ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("key-1"),
		ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: &lockUntil,
		ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn, TagCount: aws.Int32(1), VersionId: aws.String("v1")}, nil
}

func (f *fakeS3) GetObjectTagging(ctx context.Context, in *s3.GetObjectTaggingInput, _ ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error) {
	return &s3.GetObjectTaggingOutput{TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}, nil
}

func (f *fakeS3) GetObjectAcl(ctx context.Context, in *s3.GetObjectAclInput, _ ...func(*s3.Options)) (*s3.GetObjectAclOutput, error) {
	return &s3.GetObjectAclOutput{Grants: []types.Grant{
		{Permission: types.PermissionFullControl, Grantee: &types.Grantee{ID: aws.String("owner-id")}},
		{Permission: types.PermissionRead, Grantee: &types.Grantee{URI: aws.String("http://acs.amazonaws.com/groups/global/AuthenticatedUsers")}}}}, nil
}

func (f *fakeS3) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates = append(f.creates, in)
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String("up-1")}, nil
}

func (f *fakeS3) ListParts(ctx context.Context, in *s3.ListPartsInput, _ ...func(*s3.Options)) (*s3.ListPartsOutput, error) {
	return &s3.ListPartsOutput{}, nil
}

func (f *fakeS3) UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput, _ ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.partCopies = append(f.partCopies, in)
	return &s3.UploadPartCopyOutput{CopyPartResult: &types.CopyPartResult{ETag: aws.String(`"p"`)}}, nil
}

func (f *fakeS3) CopyObject(ctx context.Context, in *s3.CopyObjectInput, _ ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.copies = append(f.copies, in)
	return &s3.CopyObjectOutput{VersionId: aws.String("v2"), CopyObjectResult: &types.CopyObjectResult{ETag: aws.String(`"e"`)}}, nil
}

// TestInPlaceLargeFake: an object over 5 GiB is copied onto itself with
// UploadPartCopy from itself, into an upload created with every property,
// the marker, the object-lock settings and the ACL's grants.
func TestInPlaceLargeFake(t *testing.T) {
	ctx := context.Background()
	f := &fakeS3{size: 6 << 30}
	ip := &props.InPlace{MarkerKey: "s3pipe-replicated-at", MarkerValue: "T", CopyACL: true}
	pl := &planner.Planner{Src: f, Dst: f, PartSize: 1 << 30, HeadConc: 2, Set: counters.New("s3mpplan", planner.CounterNames...), InPlace: ip}
	obj := record.Object{Key: "big video.mp4", ETag: "0123456789abcdef0123456789abcdef", Size: f.size, Bucket: "src", VersionID: "v1"}
	rows, err := pl.PlanDests(ctx, &planner.Input{Obj: obj})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || len(f.creates) != 1 {
		t.Fatalf("%d rows, %d uploads created; want 6 parts of 1 GiB in one upload", len(rows), len(f.creates))
	}
	c := f.creates[0]
	if aws.ToString(c.Bucket) != "src" || aws.ToString(c.Key) != obj.Key || aws.ToString(c.ContentType) != "video/mp4" ||
		aws.ToString(c.CacheControl) != "no-cache" || c.Metadata["camera"] != "x" || c.Metadata["s3pipe-replicated-at"] != "T" ||
		c.StorageClass != types.StorageClassStandardIa || c.ServerSideEncryption != types.ServerSideEncryptionAwsKms ||
		aws.ToString(c.SSEKMSKeyId) != "key-1" || aws.ToString(c.Tagging) != "k=v" ||
		c.ObjectLockMode != types.ObjectLockModeGovernance || !aws.ToTime(c.ObjectLockRetainUntilDate).Equal(lockUntil) ||
		c.ObjectLockLegalHoldStatus != types.ObjectLockLegalHoldStatusOn ||
		aws.ToString(c.GrantFullControl) != `id="owner-id"` || !strings.Contains(aws.ToString(c.GrantRead), "AuthenticatedUsers") {
		t.Fatalf("CreateMultipartUpload: %+v", c)
	}
	for _, r := range rows {
		if r.DstBucket != "src" || r.Action != record.ActionPart || !strings.HasPrefix(r.Note, "in-place?acl=copy&marker=") ||
			!strings.HasSuffix(r.Note, "; new parts: destination ETag differs by design") {
			t.Fatalf("row %+v", r)
		}
	}
	// Stream mode is asked for; in place is server-side all the same.
	cp := copier.New(copier.Config{Mode: copier.ModeStream, Workers: 2}, f, f, nil, nil)
	for i := range rows {
		res, err := cp.Copy(ctx, &rows[i])
		if err != nil || res.Status != record.StatusOK {
			t.Fatalf("part %d: %+v %v", rows[i].PartNumber, res, err)
		}
	}
	if len(f.partCopies) != 6 {
		t.Fatalf("%d UploadPartCopy calls", len(f.partCopies))
	}
	for i, pc := range f.partCopies {
		if aws.ToString(pc.CopySource) != "src/big%20video.mp4?versionId=v1" || aws.ToString(pc.CopySourceIfMatch) != `"0123456789abcdef0123456789abcdef"` ||
			aws.ToString(pc.Bucket) != "src" || aws.ToString(pc.UploadId) != "up-1" || pc.CopySourceRange == nil {
			t.Fatalf("UploadPartCopy %d: %+v", i, pc)
		}
	}
}

// TestInPlaceSingleFake: a whole object is copied onto itself with
// CopyObject: REPLACE with every property plus the marker, tags copied by
// the server, the lock settings and grants; the new version id is reported.
func TestInPlaceSingleFake(t *testing.T) {
	ctx := context.Background()
	f := &fakeS3{size: 100}
	ip := props.InPlace{MarkerKey: "m", MarkerValue: "1", CopyACL: true}
	p := record.Plan{Key: "k", ETag: "0123456789abcdef0123456789abcdef", Size: 100, Length: 100, SrcBucket: "b", DstBucket: "b",
		Action: record.ActionCopy, Verify: record.VerifyETag, Note: ip.Note("")}
	cp := copier.New(copier.Config{Mode: copier.ModeStream, Workers: 1}, f, f, nil, nil)
	res, err := cp.Copy(ctx, &p)
	if err != nil || res.Status != record.StatusOK || res.DstVersionID != "v2" || res.Verify != record.VerifySize || res.Proof != record.ProofServer {
		t.Fatalf("%+v %v", res, err)
	}
	c := f.copies[0]
	if c.MetadataDirective != types.MetadataDirectiveReplace || c.TaggingDirective != types.TaggingDirectiveCopy ||
		c.Metadata["m"] != "1" || c.Metadata["camera"] != "x" || aws.ToString(c.CopySource) != "b/k" ||
		c.StorageClass != types.StorageClassStandardIa || aws.ToString(c.SSEKMSKeyId) != "key-1" ||
		c.ObjectLockMode != types.ObjectLockModeGovernance || c.ObjectLockLegalHoldStatus != types.ObjectLockLegalHoldStatusOn ||
		aws.ToString(c.GrantFullControl) != `id="owner-id"` {
		t.Fatalf("CopyObject: %+v", c)
	}
	// A hand-edited in-place row pointing elsewhere is refused.
	p.DstBucket = "other"
	if res, _ := cp.Copy(ctx, &p); res.Status != record.StatusFailed || !strings.Contains(res.Message, "in-place row") {
		t.Fatalf("in-place row to another bucket: %+v", res)
	}
}
