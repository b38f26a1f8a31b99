// Command s3diff compares two bucket listings and prints the source object
// records that must be copied. See docs/DIFF.md.
package main

import (
	"context"

	"github.com/s3pipe/s3pipe/cmd/internal/cli"
	"github.com/s3pipe/s3pipe/lib/stream"
)

var version = "dev"

const description = `Compare a source listing (object records on stdin, from s3list) with a destination listing
(--dst FILE) and print the source records to copy: missing at the destination or different.
Both listings must be sorted by key in raw byte order, as s3list writes them; s3diff checks.
It never deletes anything. Output feeds s3mpplan.

Choosing --compare:
  etag-size   (default) ETag or size differs. Right when ETags are content hashes on both sides:
              single-part uploads without SSE-KMS/SSE-C, and copies made by s3pipe, which keeps the
              source's part layout so multipart ETags ("<md5>-N") match.
  size-mtime  size differs or the source is newer. Use when the destination was written by another
              tool (its part size changes multipart ETags) or objects are SSE-KMS/SSE-C encrypted
              (their ETags are not MD5 and differ on every write).
  size        size differs only (cheapest, misses same-size rewrites).
  etag        ETag differs only.
An empty or NULL ETag (or NULL mtime under size-mtime) never proves equality.

Version listings (s3list --versions): only latest versions are compared. Older versions are skipped;
a latest delete marker means the object is absent on that side (deleted at the source: not copied).

Hadoop streaming: --map-side tags records for the shuffle, --reducer joins them (see docs/DIFF.md).`

// CLI is s3diff's command line.
type CLI struct {
	Src     string `help:"Source listing (- = stdin). Files, named pipes, .gz and .zst are accepted." default:"-" placeholder:"FILE"`
	Dst     string `help:"Destination listing (- = stdin). Files, named pipes, .gz and .zst are accepted." placeholder:"FILE"`
	Compare string `help:"When a key present on both sides is copied: etag-size, size, size-mtime or etag (see above)." default:"etag-size" enum:"etag-size,size,size-mtime,etag"`
	Report  string `help:"Write one row per key to FILE: key, state (missing, changed, extra, same), changed fields, ETags, sizes, mtimes." placeholder:"FILE"`
	Extra   string `help:"Write destination-only records to FILE (s3diff never deletes)." placeholder:"FILE"`
	Emit    string `help:"Which stream goes to stdout: copy (records to copy), report or extra." default:"copy" enum:"copy,report,extra"`

	MapSide      string `help:"Hadoop mapper mode: tag stdin's records as src or dst for the shuffle; 'input' picks dst when the task's input file starts with --map-dst-prefix." enum:",src,dst,input" default:"" group:"Hadoop"`
	MapDstPrefix string `help:"With --map-side input: path prefix of the destination listing's files." placeholder:"PREFIX" group:"Hadoop"`
	Reducer      bool   `help:"Hadoop reducer mode: read mapped lines grouped by key on stdin; write what the pipe mode writes." group:"Hadoop"`

	stream.Flags `embed:""`
	Version      cli.VersionFlag `help:"Print the version." name:"version"`
}

func main() {
	var c CLI
	cli.Main("s3diff", description, version, &c, func(ctx context.Context, io *stream.IO) error { return run(ctx, &c, io) })
}
