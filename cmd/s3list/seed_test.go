package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3pipe/s3pipe/lib/s3test"
)

// TestSeedBench is not a test: scripts/bench-list runs it to seed its
// benchmark bucket (S3PIPE_BENCH_SEED_BUCKET, S3PIPE_BENCH_SEED_KEYS 0-byte
// objects with uniformly spread keys). It skips unless asked.
func TestSeedBench(t *testing.T) {
	bucket := os.Getenv("S3PIPE_BENCH_SEED_BUCKET")
	if bucket == "" {
		t.Skip("S3PIPE_BENCH_SEED_BUCKET not set (scripts/bench-list sets it)")
	}
	n, err := strconv.Atoi(os.Getenv("S3PIPE_BENCH_SEED_KEYS"))
	if err != nil || n < 1 {
		t.Fatalf("S3PIPE_BENCH_SEED_KEYS: want a positive number, got %q", os.Getenv("S3PIPE_BENCH_SEED_KEYS"))
	}
	c := s3test.A(t).Client(t)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		var owned *types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			t.Fatalf("create bucket %s: %v", bucket, err)
		}
	}
	keys := make([]string, n)
	for i := range keys {
		h := fnv.New32a()
		fmt.Fprint(h, i)
		keys[i] = fmt.Sprintf("%08x/%d.dat", h.Sum32(), i)
	}
	start := time.Now()
	seed(t, c, bucket, keys)
	t.Logf("seeded %d objects into %s in %v (%.0f/s)", n, bucket, time.Since(start), float64(n)/time.Since(start).Seconds())
}
