// Package s3client owns how s3pipe talks to S3: the per-side flag groups
// (source and destination can be different accounts, regions and endpoints),
// credentials from the SDK's default chain, retries sized for high
// concurrency, and an HTTP transport with enough idle connections.
package s3client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Side is one S3 endpoint and identity. Tools embed it twice with kong tags
// `embed:"" prefix:"src-" envprefix:"S3PIPE_SRC_"` and
// `embed:"" prefix:"dst-" envprefix:"S3PIPE_DST_"`. Empty values fall back
// to the SDK's default chain, which reads the AWS CLI's own variables
// (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, ...).
type Side struct {
	Profile     string `help:"Named profile from the shared AWS config and credentials files (default: AWS_PROFILE, else the default chain)." env:"PROFILE" placeholder:"NAME"`
	Region      string `help:"AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / profile / EC2 instance metadata)." env:"REGION" placeholder:"REGION"`
	EndpointURL string `name:"endpoint-url" help:"S3 endpoint URL for S3-compatible servers (default: AWS_ENDPOINT_URL_S3)." env:"ENDPOINT_URL" placeholder:"URL"`
	PathStyle   string `help:"Path-style addressing: auto (on when an endpoint URL is given), true or false." enum:"auto,true,false" default:"auto" env:"PATH_STYLE"`
}

// Tuning is the shared concurrency and retry group, identical in every tool.
type Tuning struct {
	Concurrency int           `help:"Requests in flight at once." default:"64" env:"S3PIPE_CONCURRENCY" short:"c"`
	MaxAttempts int           `help:"Attempts per request, including the first." default:"10" env:"AWS_MAX_ATTEMPTS"`
	RetryMode   string        `help:"SDK retry mode: standard, or adaptive (client-side rate limiting shared by all workers when throttled)." enum:"standard,adaptive" default:"standard" env:"AWS_RETRY_MODE"`
	HTTPTimeout time.Duration `help:"Time to wait for a response's headers before retrying the request." default:"5m" env:"S3PIPE_HTTP_TIMEOUT"`
}

// Client is an S3 client plus the facts callers need about its side.
type Client struct {
	*s3.Client
	// Key identifies endpoint and identity; two sides with equal keys can
	// use server-side copy.
	Key    string
	Region string
}

// New builds a client for one side.
func New(ctx context.Context, side Side, t Tuning) (*Client, error) {
	if t.Concurrency < 1 {
		t.Concurrency = 1
	}
	if t.MaxAttempts < 1 {
		t.MaxAttempts = 1
	}
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(HTTPClient(t)),
		config.WithRetryer(func() aws.Retryer { return Retryer(t) }),
		// Our own integrity checks (ETag, Content-MD5, sizes) cover every
		// transfer; the SDK's default CRC32 trailers break unseekable
		// streaming bodies over plain HTTP and older S3-compatible servers.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if side.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(side.Profile))
	}
	switch {
	case side.Region != "":
		opts = append(opts, config.WithRegion(side.Region))
	case side.EndpointURL == "":
		// On EC2/EMR with no region configured, ask instance metadata.
		opts = append(opts, config.WithEC2IMDSRegion())
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration (profile %q): %w", side.Profile, err)
	}
	if cfg.Region == "" {
		// S3-compatible servers ignore the region but SigV4 needs one.
		cfg.Region = "us-east-1"
	}
	endpoint := side.EndpointURL
	if endpoint == "" && cfg.BaseEndpoint != nil {
		endpoint = *cfg.BaseEndpoint
	}
	if endpoint != "" {
		if u, err := url.Parse(endpoint); err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("endpoint URL %q: want scheme://host[:port]", endpoint)
		}
	}
	pathStyle := side.PathStyle == "true" || (side.PathStyle != "false" && endpoint != "")
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if side.EndpointURL != "" {
			o.BaseEndpoint = aws.String(side.EndpointURL)
		}
		o.UsePathStyle = pathStyle
		// GETs that ask for checksums (to learn a source's algorithm) would
		// log one DEBUG line per object when the object has none.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	key := endpoint + "|" + side.Profile
	if creds, err := cfg.Credentials.Retrieve(ctx); err == nil {
		// The access key id (never the secret) distinguishes identities.
		key += "|" + creds.AccessKeyID
	}
	return &Client{Client: client, Key: key, Region: cfg.Region}, nil
}

// Retryer returns the retry policy: many attempts with jittered exponential
// back-off, and no client-side retry quota, which at high concurrency would
// turn a burst of throttling into failed objects.
func Retryer(t Tuning) aws.Retryer {
	std := func(o *retry.StandardOptions) {
		o.MaxAttempts = t.MaxAttempts
		o.MaxBackoff = 20 * time.Second
		o.RateLimiter = ratelimit.None
		// A response cut short or garbled (e.g. S3's "200 OK" whose error
		// body arrives late, or a truncated XML body) fails to decode; the
		// SDK does not retry that by default. The operations we retry are
		// idempotent or made safe by their callers (CreateMultipartUpload
		// duplicates are aborted by the planner, CompleteMultipartUpload's
		// NoSuchUpload is checked by s3mpdone).
		o.Retryables = append(append([]retry.IsErrorRetryable(nil), o.Retryables...),
			retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				var de *smithy.DeserializationError
				if errors.As(err, &de) {
					return aws.TrueTernary
				}
				return aws.UnknownTernary
			}))
	}
	if t.RetryMode == "adaptive" {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, std)
		})
	}
	return retry.NewStandard(std)
}

// HTTPClient returns a transport sized for the concurrency.
func HTTPClient(t Tuning) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = 0
		tr.MaxIdleConnsPerHost = max(2*t.Concurrency, 16)
		tr.IdleConnTimeout = 90 * time.Second
		tr.ResponseHeaderTimeout = t.HTTPTimeout
		// Never let Go transparently gunzip a body: objects stored with
		// Content-Encoding: gzip must be copied byte for byte.
		tr.DisableCompression = true
	}).WithDialerOptions(func(d *net.Dialer) {
		d.Timeout = 10 * time.Second
		d.KeepAlive = 30 * time.Second
	})
}
