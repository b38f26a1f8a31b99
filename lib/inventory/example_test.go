package inventory_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/s3pipe/s3pipe/lib/inventory"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Re-drive what replication never copied or failed to copy: read a local copy
// of an inventory report and write the latest versions whose replication
// status is empty or FAILED as object records.
func Example() {
	path := "testdata/good/src-bucket/cfg/2024-01-02T00-00Z/manifest.json"
	f, err := os.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	m, err := inventory.ParseManifest(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	r := &inventory.Reader{
		Fetcher: inventory.DirFetcher{Dir: filepath.Dir(path)},
		Bucket:  m.DataBucket(),
		Filter: inventory.Filter{
			ReplicationStatus: inventory.ParseStatusList("NONE,FAILED"),
			LatestOnly:        true,
			SkipDeleteMarkers: true,
		},
	}
	w := tsv.NewWriter(os.Stdout)
	err = r.ReadAll(context.Background(), m, func(o *record.Object) error { return o.Write(w) })
	w.Flush()
	fmt.Printf("err=%v rows=%d emitted=%d skipped: replication=%d not-latest=%d delete-markers=%d\n", err,
		r.Stats.Rows, r.Stats.Emitted, r.Stats.SkippedReplication, r.Stats.SkippedNotLatest, r.Stats.SkippedDeleteMarker)
	// Output:
	// plain.txt	0123456789abcdef0123456789abcdef	12	2024-01-02 03:04:05	STANDARD	v1	true	false	src-bucket
	// a b+c.txt	11111111111111111111111111111111-2	5	2024-01-02 03:04:06	STANDARD	v2	true	false	src-bucket
	// tab\tnl\ncr\rbs\\	33333333333333333333333333333333	3	2024-01-03 00:00:02	STANDARD	v5	true	false	src-bucket
	// cold/archive.bin	55555555555555555555555555555555	1048576	2024-01-05 12:00:00	GLACIER	null	true	false	src-bucket
	// err=<nil> rows=9 emitted=4 skipped: replication=3 not-latest=1 delete-markers=1
}
