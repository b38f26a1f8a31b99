package s3err

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func respErr(status int, err error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		class    Class
		code     string
		status   int
		notFound bool
		changed  bool
	}{
		{"no such key", respErr(404, &smithy.GenericAPIError{Code: "NoSuchKey", Message: "gone"}), PerObject, "NoSuchKey", 404, true, false},
		{"precondition", respErr(412, &smithy.GenericAPIError{Code: "PreconditionFailed"}), PerObject, "PreconditionFailed", 412, false, true},
		{"access denied is per object", respErr(403, &smithy.GenericAPIError{Code: "AccessDenied"}), PerObject, "AccessDenied", 403, false, false},
		{"bad key id is fatal", respErr(403, &smithy.GenericAPIError{Code: "InvalidAccessKeyId"}), Fatal, "InvalidAccessKeyId", 403, false, false},
		{"missing bucket is fatal", respErr(404, &smithy.GenericAPIError{Code: "NoSuchBucket"}), Fatal, "NoSuchBucket", 404, true, false},
		{"HEAD 404 without code", respErr(404, errors.New("not found")), PerObject, "NotFound", 404, true, false},
		{"200 with a cut body", respErr(200, &smithy.DeserializationError{Err: io.ErrUnexpectedEOF}), PerObject, "MalformedResponse", 200, false, false},
		{"cancelled", fmt.Errorf("copy: %w", context.Canceled), Fatal, "Interrupted", 0, false, false},
		{"plain", errors.New("boom"), PerObject, "ClientError", 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.class {
				t.Errorf("Classify = %v, want %v", got, tt.class)
			}
			if got := Code(tt.err); got != tt.code {
				t.Errorf("Code = %q, want %q", got, tt.code)
			}
			if got := HTTPStatus(tt.err); got != tt.status {
				t.Errorf("HTTPStatus = %d, want %d", got, tt.status)
			}
			if got := IsNotFound(tt.err); got != tt.notFound {
				t.Errorf("IsNotFound = %v, want %v", got, tt.notFound)
			}
			if got := IsPreconditionFailed(tt.err); got != tt.changed {
				t.Errorf("IsPreconditionFailed = %v, want %v", got, tt.changed)
			}
		})
	}
}
