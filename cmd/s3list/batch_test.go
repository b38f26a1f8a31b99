package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/s3pipe/s3pipe/lib/counters"
)

// fakeHead answers HeadObject from a table: an error code, or an object
// whose size is the key's length. Keys starting with "slow" answer late so
// that later tasks finish first.
type fakeHead struct {
	codes map[string]string
	calls atomic.Int64
}

func (f *fakeHead) HeadObject(ctx context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	f.calls.Add(1)
	k := aws.ToString(in.Key)
	if strings.HasPrefix(k, "slow") {
		time.Sleep(20 * time.Millisecond)
	}
	if f.codes[k] == "405" {
		// A HEAD naming a delete marker's version: 405 without a code.
		return nil, &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 405}}, Err: errors.New("method not allowed")}}
	}
	if code := f.codes[k]; code != "" {
		return nil, &smithy.GenericAPIError{Code: code, Message: code + " for " + k}
	}
	return &s3.HeadObjectOutput{ETag: aws.String(`"e-` + k + `"`), ContentLength: aws.Int64(int64(len(k))),
		LastModified: aws.Time(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))}, nil
}

// TestResolveAll: output in input order whatever order the HEADs finish
// in; gone objects counted; a per-object failure counted, printed, and
// failing the run at the end; a fatal one stopping it.
func TestResolveAll(t *testing.T) {
	tests := []struct {
		name     string
		keys     []string
		codes    map[string]string
		wantKeys string
		errSub   string
		gone     int64
		failed   int64
	}{
		{"order", []string{"slow1", "a", "slow2", "b", "c"}, nil, "slow1 a slow2 b c", "", 0, 0},
		{"gone and denied", []string{"a", "gone", "denied", "b", "marker"},
			map[string]string{"gone": "NotFound", "denied": "AccessDenied", "marker": "405"},
			"a b", "1 task(s) could not be resolved", 2, 1},
		{"fatal", []string{"a", "nobucket", "b"}, map[string]string{"nobucket": "NoSuchBucket"}, "a", "NoSuchBucket", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := counterSet()
			var stdout, stderr bytes.Buffer
			rep := counters.Start(set, &stderr, counters.Options{Mode: counters.ModeQuiet})
			out := newOutput(&stdout, &CLI{Emit: "tsv"}, set, true)
			f := &fakeHead{codes: tt.codes}
			err := resolveAll(context.Background(), f, 4, func(fn func(task) error) error {
				for _, k := range tt.keys {
					if err := fn(task{"bkt", k, ""}); err != nil {
						return err
					}
				}
				return nil
			}, out, set, rep)
			rep.Stop()
			if ferr := out.Flush(); ferr != nil {
				t.Fatal(ferr)
			}
			if tt.errSub == "" && err != nil || tt.errSub != "" && (err == nil || !strings.Contains(err.Error(), tt.errSub)) {
				t.Fatalf("error %v, want %q", err, tt.errSub)
			}
			var fe *fetchError
			if err != nil && !errors.As(err, &fe) {
				t.Fatalf("error %v is not a fetch error (exit 3)", err)
			}
			var got []string
			for _, o := range records(t, stdout.String()) {
				got = append(got, o.Key)
				if o.ETag != "e-"+o.Key || o.Size != int64(len(o.Key)) || o.Bucket != "bkt" {
					t.Errorf("record %+v", o)
				}
			}
			if strings.Join(got, " ") != tt.wantKeys {
				t.Fatalf("keys %q, want %q", got, tt.wantKeys)
			}
			if set.Get(counterGone) != tt.gone || set.Get("errors") != tt.failed {
				t.Fatalf("gone %d errors %d, want %d %d", set.Get(counterGone), set.Get("errors"), tt.gone, tt.failed)
			}
			if tt.failed > 0 && !strings.Contains(stderr.String(), `s3list: skipped: HEAD of key "denied" in bucket bkt (version ""): AccessDenied: AccessDenied for denied`) {
				t.Fatalf("stderr %q", stderr.String())
			}
		})
	}
}
