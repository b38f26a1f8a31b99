// Command benchs3 is scripts/bench-copy's S3 helper: it seeds the copy
// benchmark's datasets once, makes and removes destination buckets, counts
// a bucket's objects and measures the server's own PUT ceiling. It reads
// the server from S3PIPE_TEST_ENDPOINT / _ACCESS_KEY / _SECRET_KEY, or the
// _B variables with -b.
//
//	benchs3 [-b] seed-small BUCKET N        N objects of 1–64 KiB (skipped when BUCKET holds N objects)
//	benchs3 [-b] seed-large BUCKET          24 objects of 20–200 MiB, mixed part sizes
//	benchs3 [-b] mkbucket BUCKET
//	benchs3 [-b] rmbucket BUCKET            delete every object and upload, then the bucket
//	benchs3 [-b] count BUCKET               print "objects bytes"
//	benchs3 [-b] put-ceiling BUCKET SIZE N CONC   N PUTs of SIZE bytes, CONC at once; prints "seconds MB/s objects/s"
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"golang.org/x/sync/errgroup"
)

const MiB = 1 << 20

func main() {
	b := flag.Bool("b", false, "use server B (S3PIPE_TEST_*_B)")
	flag.Parse()
	if err := run(context.Background(), *b, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "benchs3:", err)
		os.Exit(1)
	}
}

func client(serverB bool) (*s3.Client, error) {
	suf := ""
	if serverB {
		suf = "_B"
	}
	ep, ak, sk := os.Getenv("S3PIPE_TEST_ENDPOINT"+suf), os.Getenv("S3PIPE_TEST_ACCESS_KEY"+suf), os.Getenv("S3PIPE_TEST_SECRET_KEY"+suf)
	if ep == "" || ak == "" {
		return nil, errors.New("S3PIPE_TEST_ENDPOINT" + suf + " and S3PIPE_TEST_ACCESS_KEY" + suf + " must be set")
	}
	t := s3client.Tuning{Concurrency: 64, MaxAttempts: 5, RetryMode: "standard", HTTPTimeout: 5 * time.Minute}
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(ep), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""), HTTPClient: s3client.HTTPClient(t),
		Retryer: s3client.Retryer(t), RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired}), nil
}

// unsigned sends bodies with UNSIGNED-PAYLOAD: the client does not spend
// its CPU hashing what the benchmark measures the server with.
func unsigned(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

func run(ctx context.Context, serverB bool, args []string) error {
	if len(args) < 2 {
		return errors.New("usage: benchs3 [-b] seed-small|seed-large|mkbucket|rmbucket|count|put-ceiling BUCKET [ARGS]")
	}
	c, err := client(serverB)
	if err != nil {
		return err
	}
	bucket := args[1]
	num := func(i int) (int64, error) {
		if len(args) <= i {
			return 0, fmt.Errorf("%s: missing argument %d", args[0], i)
		}
		return strconv.ParseInt(args[i], 10, 64)
	}
	switch args[0] {
	case "mkbucket":
		return mkbucket(ctx, c, bucket)
	case "rmbucket":
		return rmbucket(ctx, c, bucket)
	case "count":
		n, size, err := count(ctx, c, bucket)
		if err != nil {
			return err
		}
		fmt.Println(n, size)
		return nil
	case "seed-small":
		n, err := num(2)
		if err != nil {
			return err
		}
		return seedSmall(ctx, c, bucket, int(n))
	case "seed-large":
		return seedLarge(ctx, c, bucket)
	case "put-ceiling":
		size, err := num(2)
		if err != nil {
			return err
		}
		n, err := num(3)
		if err != nil {
			return err
		}
		conc, err := num(4)
		if err != nil {
			return err
		}
		return putCeiling(ctx, c, bucket, size, int(n), int(conc))
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func mkbucket(ctx context.Context, c *s3.Client, bucket string) error {
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	var owned *types.BucketAlreadyOwnedByYou
	if errors.As(err, &owned) {
		return nil
	}
	return err
}

func rmbucket(ctx context.Context, c *s3.Client, bucket string) error {
	ups := s3.NewListMultipartUploadsPaginator(c, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	for ups.HasMorePages() {
		page, err := ups.NextPage(ctx)
		if err != nil {
			var nb *types.NoSuchBucket
			if errors.As(err, &nb) {
				return nil
			}
			return err
		}
		for _, u := range page.Uploads {
			c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: u.Key, UploadId: u.UploadId})
		}
	}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket})
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		var ids []types.ObjectIdentifier
		for _, o := range page.Contents {
			ids = append(ids, types.ObjectIdentifier{Key: o.Key})
		}
		if len(ids) == 0 {
			continue
		}
		g.Go(func() error {
			_, err := c.DeleteObjects(gctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket})
	return err
}

func count(ctx context.Context, c *s3.Client, bucket string) (int, int64, error) {
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket})
	n, size := 0, int64(0)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			var nb *types.NoSuchBucket
			if errors.As(err, &nb) {
				return 0, 0, nil
			}
			return 0, 0, err
		}
		for _, o := range page.Contents {
			n++
			size += aws.ToInt64(o.Size)
		}
	}
	return n, size, nil
}

// random is deterministic content; objects are slices of it.
func random(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}

func seedSmall(ctx context.Context, c *s3.Client, bucket string, n int) error {
	if have, _, err := count(ctx, c, bucket); err == nil && have == n {
		fmt.Fprintf(os.Stderr, "benchs3: %s already holds %d objects\n", bucket, n)
		return nil
	}
	if err := mkbucket(ctx, c, bucket); err != nil {
		return err
	}
	data := random(64 << 10)
	r := rand.New(rand.NewPCG(3, 4))
	sizes := make([]int, n)
	for i := range sizes {
		sizes[i] = 1<<10 + r.IntN(63<<10+1)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i, size := range sizes {
		g.Go(func() error {
			// Different bytes per object: rotate the start.
			off := (i * 4099) % (len(data) - size + 1)
			_, err := c.PutObject(gctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(fmt.Sprintf("small/%05d", i)),
				Body: bytes.NewReader(data[off : off+size]), ContentType: aws.String("application/octet-stream")}, unsigned)
			return err
		})
	}
	return g.Wait()
}

// largeLayouts: 24 objects of 20–200 MiB, in 5, 8, 16 and 64 MiB parts
// and some non-uniform layouts. Sizes in MiB, parts in MiB.
func largeLayouts() [][]int64 {
	var out [][]int64
	uniform := func(total, part int64) []int64 {
		var ps []int64
		for ; total > part; total -= part {
			ps = append(ps, part)
		}
		return append(ps, total)
	}
	totals := []int64{20, 35, 50, 80, 110, 140, 170, 200}
	for i, t := range totals {
		out = append(out, uniform(t, []int64{5, 8, 16, 64}[i%4]))
		out = append(out, uniform(t+3, []int64{8, 16, 64, 5}[i%4]))
	}
	nonUniform := [][]int64{{5, 7, 5, 6, 1}, {10, 20, 30, 9}, {64, 40, 64, 12}, {16, 8, 16, 8, 16, 8, 4},
		{50, 50, 50, 20}, {6, 9, 12, 15, 18, 21, 24, 3}, {100, 60, 30}, {32, 32, 32, 32, 20, 7}}
	return append(out, nonUniform...)
}

func seedLarge(ctx context.Context, c *s3.Client, bucket string) error {
	layouts := largeLayouts()
	if have, _, err := count(ctx, c, bucket); err == nil && have == len(layouts) {
		fmt.Fprintf(os.Stderr, "benchs3: %s already holds %d objects\n", bucket, have)
		return nil
	}
	if err := mkbucket(ctx, c, bucket); err != nil {
		return err
	}
	data := random(128 * MiB)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, parts := range layouts {
		g.Go(func() error {
			key := fmt.Sprintf("large/%02d", i)
			up, err := c.CreateMultipartUpload(gctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
			if err != nil {
				return err
			}
			var done []types.CompletedPart
			for k, mib := range parts {
				n := int(mib * MiB)
				off := ((i*7 + k*13) * MiB) % (len(data) - n + 1)
				out, err := c.UploadPart(gctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(int32(k + 1)),
					Body: bytes.NewReader(data[off : off+n]), ContentLength: aws.Int64(int64(n))}, unsigned)
				if err != nil {
					return fmt.Errorf("upload part %d of %s: %w", k+1, key, err)
				}
				done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(k + 1)), ETag: out.ETag})
			}
			_, err = c.CompleteMultipartUpload(gctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
			return err
		})
	}
	return g.Wait()
}

func putCeiling(ctx context.Context, c *s3.Client, bucket string, size int64, n, conc int) error {
	if err := mkbucket(ctx, c, bucket); err != nil {
		return err
	}
	data := random(int(size))
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for i := range n {
		g.Go(func() error {
			_, err := c.PutObject(gctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(fmt.Sprintf("put/%05d", i)),
				Body: bytes.NewReader(data), ContentLength: aws.Int64(size)}, unsigned)
			if err != nil {
				mu.Lock()
				firstErr = errors.Join(firstErr, err)
				mu.Unlock()
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	el := time.Since(start).Seconds()
	fmt.Printf("%.3f %.1f %.1f\n", el, float64(size)*float64(n)/el/1e6, float64(n)/el)
	return firstErr
}
