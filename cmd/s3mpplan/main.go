// Command s3mpplan turns object rows (s3list/s3diff) or report rows (a
// previous run's failures) into plan rows: one copy row per single-part
// object, one part row per part of a multipart object with the source's
// exact part boundaries, and a destination multipart upload started with
// every property the source has.
package main

import (
	"context"

	"github.com/s3pipe/s3pipe/cmd/internal/cli"
	"github.com/s3pipe/s3pipe/lib/props"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
)

var version = "dev"

// CLI is s3mpplan's command line.
type CLI struct {
	Src    s3client.Side   `embed:"" prefix:"src-" envprefix:"S3PIPE_SRC_" group:"Source"`
	Dst    s3client.Side   `embed:"" prefix:"dst-" envprefix:"S3PIPE_DST_" group:"Destination"`
	Tuning s3client.Tuning `embed:""`
	Props  props.Flags     `embed:""`
	stream.Flags
	SrcBucket   string          `help:"Source bucket for rows whose bucket column is NULL." placeholder:"BUCKET"`
	DstBucket   string          `help:"Destination bucket (written into every plan row; required unless --in-place)." placeholder:"BUCKET"`
	PartSize    string          `help:"Choose new parts of this size (e.g. 64MiB) instead of reproducing the source's; the destination ETag then differs by design. Objects over 5 GiB without a multipart source get parts of this size (default 64MiB)." placeholder:"SIZE"`
	ExactLayout bool            `help:"HEAD every part of a multipart source instead of trusting a uniform layout that explains the size."`
	DryRun      bool            `help:"Make no state-changing call: no multipart upload is created; part rows get upload id dry-run."`
	MaxRPS      float64         `name:"max-rps" help:"Most requests per second, over all workers and both sides (0 = no limit; when a tenth of recent requests get SlowDown the rate halves either way)." default:"0"`
	Version     cli.VersionFlag `help:"Print the version." name:"version"`

	Replication replication `embed:""`
}

func main() {
	var c CLI
	cli.Main("s3mpplan", "Plan copies: object or report rows (stdin) to plan rows (stdout).", version, &c,
		func(ctx context.Context, io *stream.IO) error { return run(ctx, &c, io) })
}
