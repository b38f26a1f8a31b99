package copier_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3pipe/s3pipe/lib/copier"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
)

// damaging wraps the source's HTTP client and damages GET bodies.
type damaging struct {
	next s3.HTTPClient
	mode string // "flip" or "truncate"
}

func (d damaging) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.next.Do(req)
	if err != nil || req.Method != http.MethodGet || resp.StatusCode != 200 || strings.Contains(req.URL.RawQuery, "tagging") {
		return resp, err
	}
	resp.Body = &damagedBody{rc: resp.Body, mode: d.mode, left: resp.ContentLength / 2}
	return resp, nil
}

type damagedBody struct {
	rc   io.ReadCloser
	mode string
	left int64 // bytes before the damage
}

func (b *damagedBody) Read(p []byte) (int, error) {
	if b.left <= 0 && b.mode == "truncate" {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	for i := 0; i < n; i++ {
		if b.left == 0 && b.mode == "flip" {
			p[i] ^= 0xff
		}
		b.left--
		if b.left < 0 && b.mode == "truncate" {
			return i, io.EOF
		}
	}
	return n, err
}

func (b *damagedBody) Close() error { return b.rc.Close() }

// A source body damaged in flight never becomes a destination object, for
// the buffered small path and the streamed path.
func TestDamagedSourceBody(t *testing.T) {
	e := newEnv(t, setups[2])
	sizes := map[string]int64{"small": 100 << 10, "big": 3 * MiB}
	var objs []record.Object
	for k, n := range sizes {
		s3test.Put(t, e.src.Client, e.srcB, k, s3test.RandomBytes(n, 3))
		objs = append(objs, e.object(k))
	}
	plans := e.plan(objs...)
	for _, mode := range []string{"flip", "truncate"} {
		t.Run(mode, func(t *testing.T) {
			src := s3.New(e.src.Client.Options(), func(o *s3.Options) { o.HTTPClient = damaging{next: o.HTTPClient, mode: mode} })
			cp := copier.New(copier.Config{Mode: copier.ModeStream, Attempts: 2, Backoff: 1}, src, e.dst.Client, nil, nil)
			for i := range plans {
				r, err := cp.Copy(context.Background(), &plans[i])
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]string{"flip": "BadDigest", "truncate": "IncompleteBody"}[mode]
				if r.Status != record.StatusFailed || r.ErrorCode != want {
					t.Errorf("%s: status %s code %s (%s), want failed %s", r.Key, r.Status, r.ErrorCode, r.Message, want)
				}
				if _, err := e.dst.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &e.dstB, Key: aws.String(r.Key)}); err == nil {
					t.Errorf("%s: a damaged source produced a destination object", r.Key)
				}
			}
		})
	}
}
