package faultproxy

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		method, target, copySource string
		want                       Op
	}{
		{"GET", "/b?list-type=2&prefix=a&encoding-type=url", "", ListObjectsV2},
		{"GET", "/b/?list-type=2", "", ListObjectsV2},
		{"GET", "/b?prefix=a", "", ListObjects},
		{"GET", "/b", "", ListObjects},
		{"GET", "/b?versions&encoding-type=url", "", ListObjectVersions},
		{"GET", "/b?uploads", "", ListMultipartUploads},
		{"GET", "/b/k?uploadId=u1", "", ListParts},
		{"GET", "/b/k?x-id=GetObject", "", GetObject},
		{"GET", "/b/a/b/c?versionId=v&partNumber=2", "", GetObject},
		{"GET", "/b/k%09tab?tagging", "", GetObjectTagging},
		{"GET", "/b/k?acl", "", GetObjectACL},
		{"GET", "/b?location", "", GetBucketLocation},
		{"GET", "/b?versioning", "", GetBucketVersioning},
		{"HEAD", "/b/k", "", HeadObject},
		{"HEAD", "/b", "", HeadBucket},
		{"PUT", "/b/k?x-id=PutObject", "", PutObject},
		{"PUT", "/b/k", "/src/k", CopyObject},
		{"PUT", "/b/k?x-id=CopyObject", "/src/k", CopyObject},
		{"PUT", "/b/k?partNumber=3&uploadId=u&x-id=UploadPart", "", UploadPart},
		{"PUT", "/b/k?partNumber=3&uploadId=u", "/src/k?versionId=v", UploadPartCopy},
		{"PUT", "/b/k?tagging", "", PutObjectTagging},
		{"PUT", "/b", "", CreateBucket},
		{"PUT", "/b?versioning", "", PutBucketVersioning},
		{"POST", "/b/k?uploads&x-id=CreateMultipartUpload", "", CreateMultipartUpload},
		{"POST", "/b/k?uploadId=u", "", CompleteMultipartUpload},
		{"POST", "/b?delete", "", DeleteObjects},
		{"DELETE", "/b/k?uploadId=u&x-id=AbortMultipartUpload", "", AbortMultipartUpload},
		{"DELETE", "/b/k?versionId=v&x-id=DeleteObject", "", DeleteObject},
		{"DELETE", "/b/k?tagging", "", DeleteObjectTagging},
		{"DELETE", "/b", "", DeleteBucket},
		{"PATCH", "/b/k", "", Other},
		{"POST", "/b/k", "", Other},
		{"PUT", "/b?policy", "", Other},
		// Presigned-URL parameters do not change the operation.
		{"GET", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z", "", GetObject},
		{"PUT", "/b/k?X-Amz-Signature=00", "", PutObject},
		// A malformed query does not make classification fail.
		{"GET", "/b/k?%zz&uploadId=u", "", ListParts},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		if tt.copySource != "" {
			r.Header.Set("X-Amz-Copy-Source", tt.copySource)
		}
		if got := Classify(r); got != tt.want {
			t.Errorf("Classify(%s %s copy=%q) = %s, want %s", tt.method, tt.target, tt.copySource, got, tt.want)
		}
	}
}

func TestIdentityIgnoresPerRunValues(t *testing.T) {
	a := httptest.NewRequest("PUT", "/b/k?partNumber=3&uploadId=one&X-Amz-Date=1", nil)
	b := httptest.NewRequest("PUT", "/b/k?uploadId=two&partNumber=3&X-Amz-Date=2", nil)
	if identity(a) != identity(b) {
		t.Errorf("same part in two uploads: %q != %q", identity(a), identity(b))
	}
	other := httptest.NewRequest("PUT", "/random-bucket-2/k?partNumber=3&uploadId=three", nil)
	if identity(a) != identity(other) {
		t.Errorf("same part in another bucket: %q != %q", identity(a), identity(other))
	}
	c := httptest.NewRequest("PUT", "/b/k?partNumber=4&uploadId=one", nil)
	if identity(a) == identity(c) {
		t.Errorf("parts 3 and 4 share identity %q", identity(a))
	}
	d := httptest.NewRequest("PUT", "/b/k", nil)
	d.Header.Set("X-Amz-Copy-Source", "/s/x")
	e := httptest.NewRequest("PUT", "/b/k", nil)
	e.Header.Set("X-Amz-Copy-Source", "/s/y")
	if identity(d) == identity(e) {
		t.Errorf("copies from two sources share identity %q", identity(d))
	}
	f := httptest.NewRequest("PUT", "/b2/k", nil)
	f.Header.Set("X-Amz-Copy-Source", "s2/x")
	if identity(d) != identity(f) {
		t.Errorf("the same copy between other buckets: %q != %q", identity(d), identity(f))
	}
	g := httptest.NewRequest("GET", "/b/other", nil)
	if identity(g) == identity(httptest.NewRequest("GET", "/b/k", nil)) {
		t.Errorf("two keys share identity %q", identity(g))
	}
}

// FuzzClassify: any request line the server accepts classifies without a
// panic, and the identity is stable.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"/b?list-type=2", "/b/k?uploadId=u&partNumber=1", "/b/k%00?tagging", "/", "/b//k?%zz"} {
		f.Add("GET", s, "")
		f.Add("PUT", s, "/src/k")
	}
	f.Fuzz(func(t *testing.T, method, target, copySource string) {
		if !validMethod(method) || len(target) == 0 || target[0] != '/' {
			return
		}
		r, err := http.NewRequest(method, "http://h"+target, nil)
		if err != nil {
			return
		}
		r.RequestURI = target
		r.Header.Set("X-Amz-Copy-Source", copySource)
		op := Classify(r)
		if op == "" {
			t.Fatalf("empty op for %s %q", method, target)
		}
		if first, second := identity(r), identity(r); first != second {
			t.Fatalf("unstable identity for %s %q", method, target)
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
