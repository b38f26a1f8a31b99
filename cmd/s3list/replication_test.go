package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Fixtures of the replication libraries, used as they are.
const (
	invGood     = "../../lib/inventory/testdata/good/src-bucket/cfg/2024-01-02T00-00Z/manifest.json"
	invCorrupt  = "../../lib/inventory/testdata/corrupt/src-bucket/cfg/2024-01-02T00-00Z/manifest.json"
	invReplaced = "../../lib/inventory/testdata/replaced/src-bucket/cfg/2024-01-02T00-00Z/manifest.json"
	evDir       = "../../lib/events/testdata/"
	batchDir    = "../../lib/batchops/testdata/"
)

// A valid inventory unit line (the good fixture's first data file).
const unitLine = "inventory\tinv-bucket\tinv/src-bucket/cfg/data/part-0.csv.gz\t330\td6a5b6ede6d3f1919be81aa77b862e2a\tBucket, Key, Size, ETag\n"

type goldenCase struct {
	name, stdin string
	env         map[string]string
	args        []string
}

// runGolden runs each case and compares exit code, stdout and stderr
// (counters included) with testdata/<name>.golden; -update rewrites them.
func runGolden(t *testing.T, tests []goldenCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s3list(t, tt.stdin, tt.env, tt.args...)
			got := fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Fatalf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestGoldenInventory reads the inventory fixtures from local disk (no S3):
// filters with their counters, verification modes, units, the manifest
// output and flag errors.
func TestGoldenInventory(t *testing.T) {
	runGolden(t, []goldenCase{
		{"inv-all", "", nil, []string{"--inventory", invGood}},
		{"inv-redrive", "", nil, []string{"--inventory", invGood, "--replication-status", "NONE,FAILED", "--latest-only", "--skip-delete-markers"}},
		{"inv-class-prefix", "", nil, []string{"--inventory", invGood, "--storage-class", "glacier,DEEP_ARCHIVE", "--prefix", "cold/"}},
		{"inv-units", "", nil, []string{"--inventory", invGood, "--inventory-units"}},
		{"inv-batchops-manifest", "", nil, []string{"--inventory", invGood, "--emit", "batchops-manifest", "--batchops-versions", "--latest-only"}},
		{"inv-batchops-manifest-all", "", nil, []string{"--inventory", invGood, "--emit", "batchops-manifest", "--batchops-versions"}},
		{"inv-corrupt", "", nil, []string{"--inventory", invCorrupt}},
		{"inv-corrupt-stream", "", nil, []string{"--inventory", invCorrupt, "--inventory-verify", "stream"}},
		{"inv-corrupt-none", "", nil, []string{"--inventory", invCorrupt, "--inventory-verify", "none", "-q"}},
		{"inv-replaced", "", nil, []string{"--inventory", invReplaced}},
		{"inv-replaced-none", "", nil, []string{"--inventory", invReplaced, "--inventory-verify", "none", "-q"}},
		{"inv-missing", "", nil, []string{"--inventory", "testdata/no-such-manifest.json"}},
		{"inv-not-manifest", "", nil, []string{"--inventory", evDir + "s3-put.json"}},
		{"inv-bad-s3-url", "", nil, []string{"--inventory", "s3://bucket-only"}},
		{"inv-units-filtered", "", nil, []string{"--inventory", invGood, "--inventory-units", "--latest-only"}},
		{"inv-units-no-inventory", "", nil, []string{"--bucket", "b", "--inventory-units"}},
		{"inv-filter-without-inventory", "", nil, []string{"--bucket", "b", "--replication-status", "FAILED"}},
		{"inv-filter-listing-units", "/,0\n", nil, []string{"--bucket", "b", "--units", "-", "--storage-class", "GLACIER"}},
		{"inv-unit-line-bad-md5", unitLine + "inventory\tinv\tk\t1\tnot-md5\tBucket, Key, Size, ETag\n", nil, []string{"--units", "-"}},
		{"inv-unit-line-bad-schema", "/,0\ninventory\tinv\tk\t1\td6a5b6ede6d3f1919be81aa77b862e2a\tBucket, Key\n", nil, []string{"--bucket", "b", "--units", "-"}},
		{"inv-unit-lines-need-bucket", unitLine + "/,0\n", nil, []string{"--units", "-"}},
		{"inv-two-modes", "", nil, []string{"--inventory", invGood, "--events", "-"}},
		{"inv-versions", "", nil, []string{"--inventory", invGood, "--versions"}},
	})
}

// TestGoldenEvents reads the event fixtures: each envelope, latest-only with
// deletes, unknown documents, the manifest output and flag errors.
func TestGoldenEvents(t *testing.T) {
	unknown := `{"hello":"world"}` + "\n" + `{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"2024-01-02T03:04:05Z","s3":{"bucket":{"name":"b"},"object":{"key":"a+b%2Bc","size":1,"eTag":"e1","sequencer":"01"}}}]}` + "\n"
	runGolden(t, []goldenCase{
		{"events-sqs", "", nil, []string{"--events", evDir + "sqs-receive.json"}},
		{"events-lines", "", nil, []string{"--events", evDir + "s3-lines.jsonl"}},
		{"events-lines-latest-deletes", "", nil, []string{"--events", evDir + "s3-lines.jsonl", "--events-latest", "--events-deletes"}},
		{"events-stdin-eventbridge", mustRead(t, evDir+"eventbridge.json"), nil, []string{"--events", "-"}},
		{"events-raw-eventbridge", mustRead(t, evDir+"eventbridge.json"), nil, []string{"--events", "-", "--events-raw-eventbridge-keys"}},
		{"events-sns-lambda", mustRead(t, evDir+"sns.json") + mustRead(t, evDir+"lambda-sqs.json"), nil, []string{"--events", "-", "--events-latest"}},
		{"events-unknown", unknown, nil, []string{"--events", "-"}},
		{"events-ignore-unknown", unknown, nil, []string{"--events", "-", "--events-ignore-unknown"}},
		{"events-max-keys", "", nil, []string{"--events", evDir + "s3-lines.jsonl", "--events-latest", "--events-max-keys", "1"}},
		{"events-batchops-manifest", "", nil, []string{"--events", evDir + "s3-lines.jsonl", "--events-deletes", "--emit", "batchops-manifest"}},
		{"events-bad-json", "{\"Records\": [\n", nil, []string{"--events", "-"}},
		{"events-missing", "", nil, []string{"--events", "testdata/no-such-events.json"}},
		{"events-flag-without-events", "", nil, []string{"--bucket", "b", "--events-latest"}},
		{"events-prefix", "", nil, []string{"--events", "-", "--prefix", "p/"}},
	})
}

// TestGoldenBatch covers what the batch modes do before any HEAD: bad
// reports and manifests, MD5 mismatches, flag errors. (HEADs run against
// MinIO in TestBatchMinIO and against a fake in TestResolveAll.)
func TestGoldenBatch(t *testing.T) {
	region := []string{"--src-region", "us-east-1", "--src-endpoint-url", "http://127.0.0.1:1", "--max-attempts", "1"}
	runGolden(t, []goldenCase{
		{"batch-report-bad-md5", "", nil, append([]string{"--batch-report", batchDir + "report/manifest-bad-md5.json"}, region...)},
		{"batch-report-bad-row", "b,k\n", nil, append([]string{"--batch-report", "-"}, region...)},
		{"batch-report-bad-key", "b,100%,,failed,404,NoSuchKey,x\n", nil, append([]string{"--batch-report", "-"}, region...)},
		{"batch-manifest-bad-line", "b,k,v,x\n", nil, append([]string{"--batch-manifest", "-"}, region...)},
		{"batch-report-all-alone", "", nil, []string{"--bucket", "b", "--batch-report-all"}},
		{"batch-raw-keys-manifest", "", nil, []string{"--batch-manifest", "-", "--batch-raw-keys"}},
		{"batchops-versions-alone", "", nil, []string{"--bucket", "b", "--batchops-versions"}},
		{"batch-emit-plan", "", nil, []string{"--bucket", "b", "--plan-parts", "4", "--emit", "batchops-manifest"}},
	})
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
