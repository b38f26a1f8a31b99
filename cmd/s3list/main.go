// Command s3list lists a bucket as object records (escaped TSV, one per
// line) for the s3pipe pipeline: one prefix, or many listing units from a
// part file run concurrently with output in part-file order. It also plans
// part files of key ranges that tile a prefix exactly once, and checks them.
// Instead of listing it can read the inputs of replication jobs: an S3
// Inventory report, S3 event notifications, or an S3 Batch Operations
// completion report or manifest (docs/REPLICATION.md); and it can write a
// Batch Operations manifest instead of records.
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
	Bucket   string `help:"Bucket to list or plan. With --emit batchops-manifest: the bucket of records that have none." placeholder:"BUCKET"`
	Prefix   string `help:"Without --units: list this prefix as one unit. With --plan-parts: plan ranges under it. With --inventory (or inventory unit lines): keep only keys that start with it." placeholder:"PREFIX"`
	Units    string `help:"Read listing units from FILE, or from stdin with '-': Campanile 'delimiter,prefix' lines, range lines 'range<TAB>PREFIX<TAB>AFTER<TAB>UNTIL' and inventory unit lines (docs/FORMAT.md). Output follows the units' order." placeholder:"FILE"`
	Versions bool   `help:"List every version and delete marker (ListObjectVersions) instead of current objects."`

	PlanParts  int    `help:"Instead of listing, write a part file of about N range lines that tile --bucket/--prefix exactly once, balanced by estimated key count (sampled with delimiter listings and StartAfter probes, not a full listing)." placeholder:"N"`
	CheckParts string `help:"Instead of listing, check that the range lines of FILE ('-' = stdin) tile their prefix exactly once; report each gap and overlap with its line and exit 2 if any." placeholder:"FILE"`

	Emit string `help:"Output format: tsv (object records) or batchops-manifest (an S3 Batch Operations CSV manifest 'bucket,key[,versionId]', URL-encoded keys; delete markers are left out)." enum:"tsv,batchops-manifest" default:"tsv"`

	TempDir       string `help:"Directory for spill files of units that wait for their turn in the output (default: the system temp directory)." placeholder:"DIR"`
	WaitingMemory int64  `help:"Memory shared by units waiting for their turn before they spill to temp files." default:"67108864" hidden:""`
	PageSize      int32  `help:"MaxKeys per list request (0 = server default, 1000)." default:"0" hidden:""`
	ProbeKeys     int32  `help:"MaxKeys per planning probe." default:"100" hidden:""`
	Probes        int    `help:"Planning probe budget (0 = 6×N+16)." default:"0" hidden:""`

	InventoryFlags `embed:""`
	EventFlags     `embed:""`
	BatchFlags     `embed:""`

	Src             s3client.Side `embed:"" prefix:"src-" envprefix:"S3PIPE_SRC_" group:"Source"`
	s3client.Tuning `embed:""`
	stream.Flags    `embed:""`
	Version         cli.VersionFlag `help:"Print the version." name:"version"`
}

// InventoryFlags read an S3 Inventory report instead of listing.
type InventoryFlags struct {
	Inventory         string `group:"Inventory" help:"Instead of listing, read the S3 Inventory report whose manifest.json is FILE (data files found below its directory or its parents) or s3://BUCKET/KEY (data files read from BUCKET with the source credentials). CSV reports only." placeholder:"MANIFEST"`
	InventoryUnits    bool   `group:"Inventory" help:"With --inventory: write one inventory unit line per data file instead of records, for --units on many workers (the filters go to the workers)."`
	InventoryVerify   string `group:"Inventory" help:"When each data file's MD5 is checked against the manifest: first (before any of its rows is written; reads each file twice), stream (while parsing; a bad file fails after its rows were written), none." enum:"first,stream,none" default:"first"`
	ReplicationStatus string `group:"Inventory" help:"Keep rows whose ReplicationStatus is in LIST (comma-separated, any case; NONE = empty status). NONE,FAILED is what replication never copied." placeholder:"LIST"`
	StorageClass      string `group:"Inventory" help:"Keep rows of these storage classes (comma-separated)." placeholder:"LIST"`
	LatestOnly        bool   `group:"Inventory" help:"Drop rows of versions that are not the latest."`
	SkipDeleteMarkers bool   `group:"Inventory" help:"Drop delete-marker rows."`
}

// EventFlags read S3 event notifications instead of listing.
type EventFlags struct {
	Events                   string `group:"Events" help:"Instead of listing, read S3 event notifications from FILE ('-' = stdin): raw S3 events, SNS notifications, 'aws sqs receive-message' output, Lambda SQS/SNS events or EventBridge events; one per line, arrays or pretty-printed. Created objects become records." placeholder:"FILE"`
	EventsDeletes            bool   `group:"Events" help:"Write deletes as delete-marker records (default: counted, not written)."`
	EventsLatest             bool   `group:"Events" help:"Keep only the newest event of each key (by sequencer) and write the records sorted by key, as s3diff needs. Holds one event per key in memory."`
	EventsMaxKeys            int    `group:"Events" help:"With --events-latest: fail rather than hold more than N distinct keys." default:"1000000" placeholder:"N"`
	EventsRawEventbridgeKeys bool   `group:"Events" help:"Take EventBridge keys as they are instead of URL-decoding them."`
	EventsIgnoreUnknown      bool   `group:"Events" help:"Count JSON documents that are no S3 event instead of failing on them."`
}

// BatchFlags read S3 Batch Operations reports and manifests instead of
// listing, and shape the manifest --emit batchops-manifest writes.
type BatchFlags struct {
	BatchReport      string `group:"Batch Operations" help:"Instead of listing, re-drive the tasks of a Batch Operations completion report: its manifest.json (FILE or s3://BUCKET/KEY; result files MD5-checked) or one result CSV file. Each task's object is HEADed for its ETag and size." placeholder:"REPORT"`
	BatchReportAll   bool   `group:"Batch Operations" help:"Take every task of the report, not only the failed ones."`
	BatchManifest    string `group:"Batch Operations" help:"Instead of listing, read a Batch Operations CSV manifest (FILE, '-' or s3://BUCKET/KEY; bucket,key[,versionId]) and HEAD each object." placeholder:"FILE"`
	BatchRawKeys     bool   `group:"Batch Operations" help:"The report's keys are not URL-encoded: take them as they are."`
	BatchopsVersions bool   `group:"Batch Operations" help:"With --emit batchops-manifest: write bucket,key,versionId lines (every record needs a version id)."`
}

func main() {
	var c CLI
	cli.Main("s3list", "List S3 objects as escaped-TSV object records; plan and check part files of key ranges; read S3 Inventory reports, S3 events and Batch Operations reports.", version, &c,
		func(ctx context.Context, io *stream.IO) error { return run(ctx, &c, io) })
}
