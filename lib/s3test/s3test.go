// Package s3test connects integration tests to the local MinIO servers that
// `make test` (scripts/test-integration) starts. Without them, tests skip —
// unless S3PIPE_REQUIRE_INTEGRATION=1, which `make test` and CI set, so a
// missing server fails loudly instead of passing silently.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3pipe/s3pipe/lib/s3client"
)

// Server is one local S3 server with its own identity.
type Server struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	// Profile is a named profile holding this server's credentials in the
	// shared credentials file that Main writes.
	Profile string
	KMSKey  string
}

// Side returns the s3client flag group for this server.
func (s *Server) Side() s3client.Side {
	return s3client.Side{Profile: s.Profile, EndpointURL: s.Endpoint, Region: "us-east-1", PathStyle: "true"}
}

// Tuning is a test-sized tuning group.
func Tuning() s3client.Tuning {
	return s3client.Tuning{Concurrency: 16, MaxAttempts: 5, RetryMode: "standard", HTTPTimeout: time.Minute}
}

var servers [2]*Server

// Main prepares the shared credentials file with profiles s3pipe-a and
// s3pipe-b for the two servers, then runs the tests. Use it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit: it returns m.Run's code, so a TestMain can
// clean up its own fixtures (e.g. built binaries) before exiting.
func Run(m *testing.M) int {
	return func() int {
		dir, err := os.MkdirTemp("", "s3test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer os.RemoveAll(dir)
		var creds strings.Builder
		for i, suffix := range []string{"", "_B"} {
			ep := os.Getenv("S3PIPE_TEST_ENDPOINT" + suffix)
			if ep == "" {
				continue
			}
			name := "s3pipe-" + string(rune('a'+i))
			s := &Server{Endpoint: ep, AccessKey: os.Getenv("S3PIPE_TEST_ACCESS_KEY" + suffix),
				SecretKey: os.Getenv("S3PIPE_TEST_SECRET_KEY" + suffix), Profile: name, KMSKey: os.Getenv("S3PIPE_TEST_KMS_KEY")}
			servers[i] = s
			fmt.Fprintf(&creds, "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n", name, s.AccessKey, s.SecretKey)
		}
		credFile := filepath.Join(dir, "credentials")
		if err := os.WriteFile(credFile, []byte(creds.String()), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		cfgFile := filepath.Join(dir, "config")
		if err := os.WriteFile(cfgFile, nil, 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		os.Setenv("AWS_SHARED_CREDENTIALS_FILE", credFile)
		os.Setenv("AWS_CONFIG_FILE", cfgFile)
		for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION"} {
			os.Unsetenv(k)
		}
		os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		return m.Run()
	}()
}

func need(t testing.TB, i int) *Server {
	t.Helper()
	if servers[i] == nil {
		if os.Getenv("S3PIPE_REQUIRE_INTEGRATION") == "1" {
			t.Fatalf("integration server %d required but S3PIPE_TEST_ENDPOINT* is not set (did TestMain call s3test.Main?)", i)
		}
		t.Skip("no local S3 server: run `make test` (S3PIPE_TEST_ENDPOINT unset)")
	}
	return servers[i]
}

// A is the first server (source side in most tests).
func A(t testing.TB) *Server { return need(t, 0) }

// B is the second server, with different credentials (cross-account tests).
func B(t testing.TB) *Server { return need(t, 1) }

// Client returns a raw SDK client for the server, for seeding and checking.
func (s *Server) Client(t testing.TB) *s3.Client {
	t.Helper()
	c, err := s3client.New(context.Background(), s.Side(), Tuning())
	if err != nil {
		t.Fatal(err)
	}
	return c.Client
}

// Bucket creates a fresh bucket with a random name and removes it (with
// every object version and unfinished upload) when the test ends.
func (s *Server) Bucket(t testing.TB, versioned bool) string {
	t.Helper()
	c := s.Client(t)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	name := "t-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, name)
	if len(name) > 48 {
		name = name[:48]
	}
	name = strings.TrimRight(name, "-") + "-" + hex.EncodeToString(b)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	if versioned {
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &name,
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatalf("enable versioning on %s: %v", name, err)
		}
	}
	t.Cleanup(func() {
		if os.Getenv("S3PIPE_KEEP_BUCKETS") != "" {
			return
		}
		if err := Empty(ctx, c, name); err != nil {
			t.Logf("cleanup %s: %v", name, err)
			return
		}
		c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &name})
	})
	return name
}

// Empty deletes every version, delete marker and unfinished upload.
func Empty(ctx context.Context, c *s3.Client, bucket string) error {
	var errs []error
	// URL-encoded keys: raw control bytes in keys break the XML listing.
	p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: &bucket, EncodingType: types.EncodingTypeUrl})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		var ids []types.ObjectIdentifier
		for _, v := range page.Versions {
			ids = append(ids, types.ObjectIdentifier{Key: decode(v.Key), VersionId: v.VersionId})
		}
		for _, d := range page.DeleteMarkers {
			ids = append(ids, types.ObjectIdentifier{Key: decode(d.Key), VersionId: d.VersionId})
		}
		for _, id := range ids {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: id.Key, VersionId: id.VersionId}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	up := s3.NewListMultipartUploadsPaginator(c, &s3.ListMultipartUploadsInput{Bucket: &bucket, EncodingType: types.EncodingTypeUrl})
	for up.HasMorePages() {
		page, err := up.NextPage(ctx)
		if err != nil {
			break
		}
		for _, u := range page.Uploads {
			c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: decode(u.Key), UploadId: u.UploadId})
		}
	}
	return errors.Join(errs...)
}

// decode undoes EncodingType=url.
func decode(k *string) *string {
	if k == nil {
		return nil
	}
	d, err := url.QueryUnescape(*k)
	if err != nil {
		return k
	}
	return &d
}

// Put uploads a small object.
func Put(t testing.TB, c *s3.Client, bucket, key string, body []byte, mutate ...func(*s3.PutObjectInput)) *s3.PutObjectOutput {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: strings.NewReader(string(body)), ContentLength: aws.Int64(int64(len(body)))}
	for _, m := range mutate {
		m(in)
	}
	out, err := c.PutObject(context.Background(), in)
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return out
}
