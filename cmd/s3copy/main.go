// Command s3copy copies each plan row from s3mpplan — a whole object or one
// part into its multipart upload — server-side or streamed, and writes one
// result row per plan row.
package main

import (
	"context"

	"github.com/s3pipe/s3pipe/cmd/internal/cli"
	"github.com/s3pipe/s3pipe/lib/props"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
)

var version = "dev"

// CLI is s3copy's command line.
type CLI struct {
	Src    s3client.Side   `embed:"" prefix:"src-" envprefix:"S3PIPE_SRC_" group:"Source"`
	Dst    s3client.Side   `embed:"" prefix:"dst-" envprefix:"S3PIPE_DST_" group:"Destination"`
	Tuning s3client.Tuning `embed:""`
	Props  props.Flags     `embed:""`
	stream.Flags
	Mode               string  `help:"How bytes move: auto (server-side when source and destination share endpoint and credentials, streamed when the server refuses), server or stream." enum:"auto,server,stream" default:"auto"`
	MaxRPS             float64 `name:"max-rps" help:"Most requests per second, over all workers (0 = no limit; when a tenth of recent requests get SlowDown the rate halves either way)." default:"0"`
	TrustDstEncryption bool    `name:"trust-dst-encryption" help:"Server-side copies of whole objects skip the source HEAD (one request instead of two): the server copies content headers, metadata and tags, the storage class comes from the listing, but the destination bucket's default encryption applies (the source's SSE and KMS key are not reproduced) and a website redirect location is not kept (MinIO also drops Expires). Ignored with header or metadata overrides."`
	// CPUProfile is for the copy benchmark (scripts/bench-copy).
	CPUProfile string          `name:"cpuprofile" help:"Write a CPU profile to FILE." hidden:"" placeholder:"FILE"`
	Version    cli.VersionFlag `help:"Print the version." name:"version"`

	Fanout fanout `embed:""`
}

func main() {
	var c CLI
	cli.Main("s3copy", "Copy plan rows (stdin) server-side or streamed; write result rows (stdout).", version, &c,
		func(ctx context.Context, io *stream.IO) error { return run(ctx, &c, io) })
}
