// Command s3mpdone completes the multipart uploads that s3copy filled,
// checks every copied object against its source and writes the final
// report: exactly one row per object. With --cleanup it aborts abandoned
// uploads instead.
package main

import (
	"context"
	"time"

	"github.com/s3pipe/s3pipe/cmd/internal/cli"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
)

var version = "dev"

// CLI is s3mpdone's command line.
type CLI struct {
	stream.Flags    `embed:""`
	Dst             s3client.Side `embed:"" prefix:"dst-" envprefix:"S3PIPE_DST_" group:"Destination"`
	s3client.Tuning `embed:""`

	KeepFailedUploads bool   `help:"Keep the upload of an object with a failed part (for a resumed s3copy) instead of aborting it."`
	AbortIncomplete   bool   `help:"Abort uploads whose parts did not all arrive (default: keep them, so a re-run of s3copy resumes them)."`
	Gzip              bool   `help:"Write the report gzip-compressed." short:"z"`
	Output            string `help:"Write the report to FILE instead of stdout (written to FILE.tmp, renamed at the end)." short:"o" placeholder:"FILE" type:"path"`

	Cleanup   bool          `help:"Cleanup mode: abort unfinished multipart uploads under --bucket/--prefix older than --older-than (reads no input)." group:"Cleanup"`
	Bucket    string        `help:"Cleanup mode: destination bucket." group:"Cleanup"`
	Prefix    string        `help:"Cleanup mode: key prefix." group:"Cleanup"`
	OlderThan time.Duration `help:"Cleanup mode: abort uploads initiated longer ago than this." default:"24h" group:"Cleanup"`
	DryRun    bool          `help:"Cleanup mode: list what would be aborted, abort nothing." group:"Cleanup"`

	Version cli.VersionFlag `help:"Print the version." name:"version"`

	Fanout fanout `embed:""`
}

func main() {
	var c CLI
	cli.Main("s3mpdone", "Complete multipart uploads from s3copy's result rows (stdin) and write the final report (one row per object).",
		version, &c, func(ctx context.Context, io *stream.IO) error { return run(ctx, &c, io) })
}
