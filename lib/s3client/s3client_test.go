package s3client

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestRetryer(t *testing.T) {
	r := Retryer(Tuning{MaxAttempts: 7, RetryMode: "standard"})
	if r.MaxAttempts() != 7 {
		t.Fatalf("MaxAttempts = %d", r.MaxAttempts())
	}
	retryable := []error{
		&smithy.DeserializationError{Err: io.ErrUnexpectedEOF},
		&smithy.GenericAPIError{Code: "SlowDown"},
		&smithy.GenericAPIError{Code: "RequestTimeout"},
	}
	for _, err := range retryable {
		if !r.IsErrorRetryable(err) {
			t.Errorf("%v: want retryable", err)
		}
	}
	for _, err := range []error{&smithy.GenericAPIError{Code: "NoSuchKey"}, &smithy.GenericAPIError{Code: "AccessDenied"}} {
		if r.IsErrorRetryable(err) {
			t.Errorf("%v: want not retryable", err)
		}
	}
	// Many failing requests at once must not drain a retry quota: every
	// one of them still gets its retry token.
	for i := 0; i < 10000; i++ {
		if _, err := r.GetRetryToken(context.Background(), errors.New("x")); err != nil {
			t.Fatalf("retry token %d refused: %v", i, err)
		}
	}
	if a := Retryer(Tuning{MaxAttempts: 3, RetryMode: "adaptive"}); a.MaxAttempts() != 3 {
		t.Fatalf("adaptive MaxAttempts = %d", a.MaxAttempts())
	}
}

func TestNewSides(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-never-shown")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	ctx := context.Background()
	tun := Tuning{Concurrency: 4, MaxAttempts: 2}
	a, err := New(ctx, Side{EndpointURL: "http://127.0.0.1:9", PathStyle: "auto"}, tun)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(ctx, Side{EndpointURL: "http://127.0.0.1:9"}, tun)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(ctx, Side{EndpointURL: "http://127.0.0.2:9"}, tun)
	if err != nil {
		t.Fatal(err)
	}
	if a.Key != b.Key || a.Key == c.Key {
		t.Errorf("keys: same side %q vs %q, other endpoint %q", a.Key, b.Key, c.Key)
	}
	if strings.Contains(a.Key, "secret-never-shown") {
		t.Errorf("client key leaks the secret: %q", a.Key)
	}
	if a.Region != "us-east-1" {
		t.Errorf("region = %q, want the us-east-1 fallback for endpoints", a.Region)
	}
	if !a.Options().UsePathStyle {
		t.Error("auto path style must be on with an endpoint URL")
	}
	if _, err := New(ctx, Side{EndpointURL: "not a url"}, tun); err == nil {
		t.Error("bad endpoint URL accepted")
	}
}
