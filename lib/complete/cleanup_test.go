package complete

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/s3pipe/s3pipe/lib/tsv"
)

func TestCleanup(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	keys := map[string]time.Duration{ // key -> age
		"p/old one+plus%pct": 48 * time.Hour,
		"p/old\ttab":         25 * time.Hour,
		"p/young":            time.Hour,
		"p/old3":             30 * time.Hour,
		"q/outside":          99 * time.Hour,
	}
	for _, dry := range []bool{false, true} {
		f := newFake()
		i := 0
		for k, age := range keys {
			f.upload(dstB, k, "id"+string(rune('a'+i)), []byte("x"))
			f.uploads["id"+string(rune('a'+i))].initiated = now.Add(-age)
			i++
		}
		var out strings.Builder
		w := tsv.NewWriter(&out)
		set := NewCounters()
		var rows []CleanupRow
		failed, err := Cleanup(context.Background(), f, CleanupOptions{Bucket: dstB, Prefix: "p/", OlderThan: 24 * time.Hour,
			DryRun: dry, Concurrency: 3, Now: func() time.Time { return now }}, set,
			func(r *CleanupRow) error { rows = append(rows, *r); return r.Write(w) })
		if err != nil || failed != 0 {
			t.Fatalf("dry=%v: %v, %d failed", dry, err, failed)
		}
		w.Flush()
		actions := map[string]string{}
		for _, r := range rows {
			actions[r.Key] = r.Action
		}
		want := CleanupAborted
		if dry {
			want = CleanupWouldAbort
		}
		for _, k := range []string{"p/old one+plus%pct", "p/old\ttab", "p/old3"} {
			if actions[k] != want {
				t.Errorf("dry=%v: %q: action %q, want %q (all %v)", dry, k, actions[k], want, actions)
			}
		}
		if actions["p/young"] != CleanupTooYoung || len(rows) != 4 {
			t.Errorf("dry=%v: rows %v", dry, actions)
		}
		left := len(f.uploads)
		if wantLeft := map[bool]int{false: 2, true: 5}[dry]; left != wantLeft {
			t.Errorf("dry=%v: %d uploads left, want %d", dry, left, wantLeft)
		}
		if set.Get(CounterListed) != 4 || set.Get(CounterAborted) != map[bool]int64{false: 3, true: 0}[dry] {
			t.Errorf("dry=%v: counters %v", dry, set.Snapshot())
		}
		if !strings.Contains(out.String(), "p/old\\ttab\t") {
			t.Errorf("tab in key not escaped in output:\n%s", out.String())
		}
	}
}

func TestCleanupAbortFailure(t *testing.T) {
	f := newFake()
	f.upload(dstB, "k", "id1", []byte("x"))
	f.failWith["abort"] = apiErr("AccessDenied")
	var rows []CleanupRow
	failed, err := Cleanup(context.Background(), f, CleanupOptions{Bucket: dstB}, NewCounters(),
		func(r *CleanupRow) error { rows = append(rows, *r); return nil })
	if err != nil || failed != 1 || len(rows) != 1 || rows[0].Action != CleanupAbortFailed || !strings.Contains(rows[0].Message, "AccessDenied") {
		t.Fatalf("err %v failed %d rows %+v", err, failed, rows)
	}
	f.failWith["abort"] = apiErr("InvalidAccessKeyId")
	if _, err := Cleanup(context.Background(), f, CleanupOptions{Bucket: dstB}, NewCounters(),
		func(r *CleanupRow) error { return nil }); err == nil {
		t.Fatal("fatal abort error not returned")
	}
}
