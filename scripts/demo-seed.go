//go:build ignore

// demo-seed creates the demo's source and destination buckets and seeds
// the source with a handful of objects: plain ones, keys that break weaker
// tools (tab, newline, backslash, \N, '+', space, unicode), content headers
// and metadata, and an 11 MiB object uploaded in parts of 5, 5 and 1 MiB.
// scripts/demo runs it with `go run scripts/demo-seed.go`.
//
//	DEMO_ENDPOINT=http://127.0.0.1:PORT AWS_PROFILE=... go run scripts/demo-seed.go SRC_BUCKET DST_BUCKET
package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3pipe/s3pipe/lib/s3client"
)

func main() {
	if err := seed(); err != nil {
		fmt.Fprintln(os.Stderr, "demo-seed:", err)
		os.Exit(1)
	}
}

func seed() error {
	if len(os.Args) != 3 {
		return fmt.Errorf("usage: demo-seed SRC_BUCKET DST_BUCKET")
	}
	ctx := context.Background()
	side := s3client.Side{Profile: os.Getenv("AWS_PROFILE"), EndpointURL: os.Getenv("DEMO_ENDPOINT"), Region: "us-east-1", PathStyle: "true"}
	c, err := s3client.New(ctx, side, s3client.Tuning{Concurrency: 4, MaxAttempts: 3, RetryMode: "standard", HTTPTimeout: 60e9})
	if err != nil {
		return err
	}
	for _, b := range os.Args[1:] {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	src := os.Args[1]
	put := func(key, body string, mut func(*s3.PutObjectInput)) error {
		in := &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(key), Body: bytes.NewReader([]byte(body))}
		if mut != nil {
			mut(in)
		}
		if _, err := c.PutObject(ctx, in); err != nil {
			return fmt.Errorf("put %q: %w", key, err)
		}
		return nil
	}
	plain := map[string]string{
		"README.txt":            "s3pipe demo bucket\n",
		"logs/2024/01/01.log":   "one\n",
		"logs/2024/01/02.log":   "two\n",
		"empty":                 "",
		"dir/":                  "",
		"nasty/tab\tin key":     "tab",
		"nasty/new\nline":       "newline",
		"nasty/back\\slash":     "backslash",
		"nasty/\\N":             "looks like NULL",
		"nasty/plus+and space":  "plus and space",
		"nasty/日本語/émoji 🎉.txt": "unicode",
	}
	for k, v := range plain {
		if err := put(k, v, nil); err != nil {
			return err
		}
	}
	if err := put("web/index.html", "<h1>hello</h1>\n", func(in *s3.PutObjectInput) {
		in.ContentType = aws.String("text/html; charset=utf-8")
		in.CacheControl = aws.String("max-age=60")
		in.Metadata = map[string]string{"owner": "demo", "note": "100% ünïcode"}
		in.Tagging = aws.String("team=demo&tier=web")
	}); err != nil {
		return err
	}
	// A multipart object: the copy must reproduce its 3-part ETag.
	key := "big/11MiB.bin"
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(src), Key: aws.String(key),
		ContentType: aws.String("application/octet-stream")})
	if err != nil {
		return fmt.Errorf("create upload %s: %w", key, err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var parts []types.CompletedPart
	for i, n := range []int{5 << 20, 5 << 20, 1 << 20} {
		body := make([]byte, n)
		for j := range body {
			body[j] = byte(r.Uint32())
		}
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(src), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(n))})
		if err != nil {
			return fmt.Errorf("upload part %d of %s: %w", i+1, key, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(src), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		return fmt.Errorf("complete %s: %w", key, err)
	}
	fmt.Printf("seeded s3://%s with %d objects (one of them multipart, 3 parts)\n", src, len(plain)+2)
	return nil
}
