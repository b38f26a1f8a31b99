// Package dests owns the destinations of a fan-out run: parsing the
// `--also-dst` specs, building one S3 client per destination, and routing
// each request to the client of the bucket it names. A plan row names only
// its destination bucket, so within one run a bucket name stands for one
// destination (two destinations with the same bucket name on different
// endpoints are refused).
package dests

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/s3pipe/s3pipe/lib/s3client"
)

// Spec is one extra destination: a bucket and the side (endpoint, region,
// profile) that reaches it. Fields left empty fall back to the SDK's
// default chain, exactly like an unset --dst-* flag; secrets never appear in
// a spec (use a profile).
type Spec struct {
	Bucket string
	Side   s3client.Side
}

// String is the spec in the form Parse reads.
func (s Spec) String() string {
	var b strings.Builder
	b.WriteString("s3://" + s.Bucket)
	add := func(k, v string) {
		if v != "" {
			b.WriteString("," + k + "=" + v)
		}
	}
	add("profile", s.Side.Profile)
	add("endpoint-url", s.Side.EndpointURL)
	add("region", s.Side.Region)
	if s.Side.PathStyle != "auto" {
		add("path-style", s.Side.PathStyle)
	}
	return b.String()
}

// Parse reads `s3://BUCKET[,profile=NAME][,endpoint-url=URL][,region=R][,path-style=true|false]`.
func Parse(spec string) (Spec, error) {
	fields := strings.Split(spec, ",")
	bucket, ok := strings.CutPrefix(fields[0], "s3://")
	bucket = strings.TrimSuffix(bucket, "/")
	if !ok || bucket == "" || strings.ContainsAny(bucket, "/ \t\r\n") {
		return Spec{}, fmt.Errorf("destination %q: want s3://BUCKET[,profile=NAME][,endpoint-url=URL][,region=R][,path-style=true|false]", spec)
	}
	s := Spec{Bucket: bucket, Side: s3client.Side{PathStyle: "auto"}}
	seen := map[string]bool{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok || v == "" {
			return Spec{}, fmt.Errorf("destination %q: %q: want KEY=VALUE", spec, f)
		}
		if seen[k] {
			return Spec{}, fmt.Errorf("destination %q: %s given twice", spec, k)
		}
		seen[k] = true
		switch k {
		case "profile":
			s.Side.Profile = v
		case "endpoint-url":
			s.Side.EndpointURL = v
		case "region":
			s.Side.Region = v
		case "path-style":
			if v != "true" && v != "false" && v != "auto" {
				return Spec{}, fmt.Errorf("destination %q: path-style=%s: want true, false or auto", spec, v)
			}
			s.Side.PathStyle = v
		case "access-key-id", "secret-access-key", "aws-access-key-id", "aws-secret-access-key", "session-token":
			return Spec{}, fmt.Errorf("destination %q: no credentials in flags: put them in a profile and use profile=NAME", spec)
		default:
			return Spec{}, fmt.Errorf("destination %q: unknown setting %q (want profile, endpoint-url, region or path-style)", spec, k)
		}
	}
	return s, nil
}

// ParseAll parses every spec and refuses a bucket named twice, or the
// primary destination bucket (primary may be empty when the tool has none).
func ParseAll(specs []string, primary string) ([]Spec, error) {
	var out []Spec
	seen := map[string]bool{}
	if primary != "" {
		seen[primary] = true
	}
	for _, x := range specs {
		s, err := Parse(x)
		if err != nil {
			return nil, err
		}
		if seen[s.Bucket] {
			return nil, fmt.Errorf("destination bucket %q given twice: plan rows name only the bucket, so each destination needs its own bucket name", s.Bucket)
		}
		seen[s.Bucket] = true
		out = append(out, s)
	}
	return out, nil
}

// Clients is the client of each destination bucket; buckets not listed
// use Default (the --dst-* side).
type Clients struct {
	Default  *s3client.Client
	ByBucket map[string]*s3client.Client
}

// NewClients builds one client per spec.
func NewClients(ctx context.Context, def *s3client.Client, specs []Spec, t s3client.Tuning) (*Clients, error) {
	c := &Clients{Default: def, ByBucket: map[string]*s3client.Client{}}
	for _, s := range specs {
		cl, err := s3client.New(ctx, s.Side, t)
		if err != nil {
			return nil, fmt.Errorf("destination s3://%s: %w", s.Bucket, err)
		}
		c.ByBucket[s.Bucket] = cl
	}
	return c, nil
}

// For returns the client of bucket.
func (c *Clients) For(bucket string) *s3client.Client {
	if cl, ok := c.ByBucket[bucket]; ok {
		return cl
	}
	return c.Default
}

// ErrNoBucket is returned by a routed call whose input names no bucket.
var ErrNoBucket = errors.New("request names no bucket")
