// Command s3list lists a bucket as object records (escaped TSV, one per
// line) for the s3pipe pipeline: one prefix, or many listing units from a
// part file run concurrently with output in part-file order. It also plans
// part files of key ranges that tile a prefix exactly once, and checks them.
package main

import (
	"context"

	"github.com/s3pipe/s3pipe/cmd/internal/cli"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
)

var version = "dev"

// CLI is s3list's command line.
type CLI struct {
	Bucket   string `help:"Bucket to list or plan." placeholder:"BUCKET"`
	Prefix   string `help:"Without --units: list this prefix as one unit. With --plan-parts: plan ranges under it." placeholder:"PREFIX"`
	Units    string `help:"Read listing units from FILE, or from stdin with '-': Campanile 'delimiter,prefix' lines and range lines 'range<TAB>PREFIX<TAB>AFTER<TAB>UNTIL' (docs/FORMAT.md). Output follows the units' order." placeholder:"FILE"`
	Versions bool   `help:"List every version and delete marker (ListObjectVersions) instead of current objects."`

	PlanParts  int    `help:"Instead of listing, write a part file of about N range lines that tile --bucket/--prefix exactly once, balanced by estimated key count (sampled with a few StartAfter probes, not a full listing)." placeholder:"N"`
	CheckParts string `help:"Instead of listing, check that the range lines of FILE ('-' = stdin) tile their prefix exactly once; report each gap and overlap with its line and exit 2 if any." placeholder:"FILE"`

	TempDir       string `help:"Directory for spill files of units that wait for their turn in the output (default: the system temp directory)." placeholder:"DIR"`
	WaitingMemory int64  `help:"Memory shared by units waiting for their turn before they spill to temp files." default:"67108864" hidden:""`
	PageSize      int32  `help:"MaxKeys per list request (0 = server default, 1000)." default:"0" hidden:""`
	ProbeKeys     int32  `help:"MaxKeys per planning probe." default:"100" hidden:""`
	Probes        int    `help:"Planning probe budget (0 = 6×N+16)." default:"0" hidden:""`

	Src             s3client.Side `embed:"" prefix:"src-" envprefix:"S3PIPE_SRC_" group:"Source"`
	s3client.Tuning `embed:""`
	stream.Flags    `embed:""`
	Version         cli.VersionFlag `help:"Print the version." name:"version"`
}

func main() {
	var c CLI
	cli.Main("s3list", "List S3 objects as escaped-TSV object records; plan and check part files of key ranges.", version, &c,
		func(ctx context.Context, io *stream.IO) error { return run(ctx, &c, io) })
}
