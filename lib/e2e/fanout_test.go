package e2e

import (
	"fmt"
	"testing"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
)

// The fan-out through the binaries: one source on server A copied to a
// bucket on A (the --dst side) and to a bucket on server B (another
// identity, --also-dst) in one run; every destination equals the source and
// each object has one report row per destination.
func TestFanoutBinaries(t *testing.T) {
	a, b := s3test.A(t), s3test.B(t)
	e := newEnv(t, a, a)
	otherB := b.Bucket(t, false)
	c := a.Client(t)
	keys := []string{"small", "tab\there", "big/12MiB"}
	s3test.Put(t, c, e.srcB, keys[0], []byte("hello"))
	s3test.Put(t, c, e.srcB, keys[1], []byte("tabbed"))
	putParts(t, c, e.srcB, keys[2], 7, 5*s3test.MiB, 5*s3test.MiB, 2*s3test.MiB)
	spec := fmt.Sprintf("s3://%s,profile=%s,endpoint-url=%s,region=us-east-1,path-style=true", otherB, b.Profile, b.Endpoint)

	st := e.pipeline("", e.path("report.tsv"),
		e.cmd("s3list", "--bucket", e.srcB),
		e.cmd("s3mpplan", "--dst-bucket", e.dstB, "--also-dst", spec),
		e.cmd("s3copy", "--mode", "stream", "--also-dst", spec),
		e.cmd("s3mpdone", "--also-dst", spec))
	e.mustOK(st)

	var rows []record.Report
	for _, rs := range readReport(t, e.path("report.tsv")) {
		rows = append(rows, rs...)
	}
	seen := map[string]int{}
	for _, r := range rows {
		if r.Status != record.OutcomeCopied || r.DstETag != r.SrcETag {
			t.Errorf("%q to %s: %s %s %s, want copied with the source ETag", r.Key, r.DstBucket, r.Status, r.ErrorCode, r.Message)
		}
		seen[r.DstBucket+"/"+r.Key]++
	}
	for _, k := range keys {
		for _, d := range []string{e.dstB, otherB} {
			if seen[d+"/"+k] != 1 {
				t.Errorf("%s/%q: %d report rows, want 1", d, k, seen[d+"/"+k])
			}
		}
	}
	if len(rows) != 2*len(keys) {
		t.Errorf("%d report rows, want %d (one per object and destination)", len(rows), 2*len(keys))
	}
	src := listing(t, c, e.srcB)
	for name, got := range map[string]map[string]string{e.dstB: listing(t, c, e.dstB), otherB: listing(t, b.Client(t), otherB)} {
		if fmt.Sprint(got) != fmt.Sprint(src) {
			t.Errorf("destination %s holds %v, source %v", name, got, src)
		}
	}
	if n := uploadsLeft(t, b.Client(t), otherB) + uploadsLeft(t, c, e.dstB); n != 0 {
		t.Errorf("%d uploads left", n)
	}
}
