// Package s3err classifies S3 errors in one place: what is fatal for the
// whole run (credentials, missing bucket), what fails one object (becomes its
// outcome row), and the code / HTTP status / message that rows carry.
package s3err

import (
	"context"
	"errors"
	"net/http"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Class is how a failure affects the run.
type Class int

const (
	PerObject Class = iota // record a failed row, go on
	Fatal                  // stop the run: nothing else can succeed
)

// fatalCodes cannot be fixed by moving to the next object.
var fatalCodes = map[string]bool{
	"InvalidAccessKeyId":           true,
	"SignatureDoesNotMatch":        true,
	"ExpiredToken":                 true,
	"InvalidToken":                 true,
	"TokenRefreshRequired":         true,
	"NoSuchBucket":                 true,
	"AuthorizationHeaderMalformed": true,
	"PermanentRedirect":            true,
	"AccountProblem":               true,
	"AllAccessDisabled":            true,
	"InvalidBucketName":            true,
}

// Classify says whether err stops the run.
func Classify(err error) Class {
	if err == nil {
		return PerObject
	}
	if errors.Is(err, context.Canceled) {
		return Fatal
	}
	if fatalCodes[Code(err)] {
		return Fatal
	}
	return PerObject
}

// Code is the S3 error code ("NoSuchKey", "PreconditionFailed", ...), or a
// short generic code for non-API failures.
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if c := ae.ErrorCode(); c != "" {
			return c
		}
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		// A 200 whose body is cut short or is an error document.
		return "MalformedResponse"
	}
	if s := HTTPStatus(err); s >= 300 {
		if t := http.StatusText(s); t != "" {
			return strings.ReplaceAll(t, " ", "")
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "Interrupted"
	case errors.Is(err, context.DeadlineExceeded):
		return "Timeout"
	}
	return "ClientError"
}

// HTTPStatus is the response status of a failed request, or 0.
func HTTPStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// Message is a one-line description without request ids' noise.
func Message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorMessage() != "" {
		return ae.ErrorMessage()
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// IsNotFound reports a missing key, version or upload.
func IsNotFound(err error) bool {
	switch Code(err) {
	case "NoSuchKey", "NotFound", "NoSuchVersion", "NoSuchUpload":
		return true
	}
	return HTTPStatus(err) == http.StatusNotFound
}

// IsPreconditionFailed reports an If-Match / copy-source-if-match mismatch:
// the source changed since it was listed.
func IsPreconditionFailed(err error) bool {
	return Code(err) == "PreconditionFailed" || HTTPStatus(err) == http.StatusPreconditionFailed
}
