package faultproxy

import (
	"net/http"
	"net/url"
	"strings"
)

// Op is an S3 operation name as the S3 API reference spells it.
type Op string

// The operations Classify recognises. Requests it cannot name are Other.
const (
	ListObjectsV2           Op = "ListObjectsV2"
	ListObjects             Op = "ListObjects"
	ListObjectVersions      Op = "ListObjectVersions"
	ListMultipartUploads    Op = "ListMultipartUploads"
	ListParts               Op = "ListParts"
	GetObject               Op = "GetObject"
	HeadObject              Op = "HeadObject"
	HeadBucket              Op = "HeadBucket"
	GetObjectTagging        Op = "GetObjectTagging"
	GetObjectACL            Op = "GetObjectAcl"
	GetBucketLocation       Op = "GetBucketLocation"
	GetBucketVersioning     Op = "GetBucketVersioning"
	PutObject               Op = "PutObject"
	PutObjectTagging        Op = "PutObjectTagging"
	CopyObject              Op = "CopyObject"
	UploadPart              Op = "UploadPart"
	UploadPartCopy          Op = "UploadPartCopy"
	CreateBucket            Op = "CreateBucket"
	PutBucketVersioning     Op = "PutBucketVersioning"
	CreateMultipartUpload   Op = "CreateMultipartUpload"
	CompleteMultipartUpload Op = "CompleteMultipartUpload"
	DeleteObjects           Op = "DeleteObjects"
	AbortMultipartUpload    Op = "AbortMultipartUpload"
	DeleteObject            Op = "DeleteObject"
	DeleteObjectTagging     Op = "DeleteObjectTagging"
	DeleteBucket            Op = "DeleteBucket"
	Other                   Op = "Other"
)

// Classify names the S3 operation of a path-style request
// (http://host/bucket/key?query) from its method, query and the
// x-amz-copy-source header. Virtual-hosted requests (bucket in the Host)
// are not told apart from bucket-level ones; the tools use path style
// whenever an endpoint URL is given, which is how tests reach the proxy.
func Classify(r *http.Request) Op {
	q := query(r)
	has := func(k string) bool { _, ok := q[k]; return ok }
	copySource := r.Header.Get("X-Amz-Copy-Source") != ""
	bucketOnly := isBucketPath(r)
	switch r.Method {
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return ListParts
		case has("uploads"):
			return ListMultipartUploads
		case has("tagging"):
			return GetObjectTagging
		case has("acl"):
			return GetObjectACL
		case bucketOnly && q.Get("list-type") == "2":
			return ListObjectsV2
		case bucketOnly && has("versions"):
			return ListObjectVersions
		case bucketOnly && has("location"):
			return GetBucketLocation
		case bucketOnly && has("versioning"):
			return GetBucketVersioning
		case bucketOnly:
			return ListObjects
		default:
			return GetObject
		}
	case http.MethodHead:
		if bucketOnly {
			return HeadBucket
		}
		return HeadObject
	case http.MethodPut:
		switch {
		case has("uploadId") && has("partNumber") && copySource:
			return UploadPartCopy
		case has("uploadId") && has("partNumber"):
			return UploadPart
		case has("tagging"):
			return PutObjectTagging
		case bucketOnly && has("versioning"):
			return PutBucketVersioning
		case bucketOnly && len(q) == 0:
			return CreateBucket
		case !bucketOnly && copySource:
			return CopyObject
		case !bucketOnly:
			return PutObject
		}
	case http.MethodPost:
		switch {
		case has("uploads"):
			return CreateMultipartUpload
		case has("uploadId"):
			return CompleteMultipartUpload
		case has("delete"):
			return DeleteObjects
		}
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return AbortMultipartUpload
		case has("tagging"):
			return DeleteObjectTagging
		case bucketOnly:
			return DeleteBucket
		default:
			return DeleteObject
		}
	}
	return Other
}

// query parses the raw query leniently: a malformed pair is skipped, not
// fatal, because classification must never fail.
func query(r *http.Request) url.Values {
	q, _ := url.ParseQuery(r.URL.RawQuery)
	if q == nil {
		q = url.Values{}
	}
	// Presigned-URL parameters say nothing about the operation, and the
	// SDK's own x-id=GetObject hint is not sent by every client.
	for k := range q {
		if strings.HasPrefix(k, "X-Amz-") || k == "x-id" {
			delete(q, k)
		}
	}
	return q
}

// isBucketPath reports whether a path-style request names only a bucket
// ("/bucket" or "/bucket/").
func isBucketPath(r *http.Request) bool {
	p := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	i := strings.IndexByte(p, '/')
	return i < 0 || i == len(p)-1
}

// hasBody reports whether a successful response to op carries a body that
// a body fault (truncation, reset in the middle) can cut.
func hasBody(op Op) bool {
	switch op {
	case HeadObject, HeadBucket, PutObject, UploadPart, PutObjectTagging, CreateBucket, PutBucketVersioning,
		AbortMultipartUpload, DeleteObject, DeleteObjectTagging, DeleteBucket:
		return false
	}
	return true
}

// copyLike reports whether op is one of the three operations for which S3
// may answer 200 OK and put an error in the body: it sends the status line
// early to keep the connection alive during a long server-side copy or
// assembly, then learns that it failed.
func copyLike(op Op) bool {
	return op == CopyObject || op == UploadPartCopy || op == CompleteMultipartUpload
}
