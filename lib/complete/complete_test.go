package complete

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

const srcB, dstB = "src", "dst"

// mp describes one multipart object in the fake: its parts' contents.
type mp struct {
	key, id string
	parts   [][]byte
	etags   []string
	etag    string // the ETag the completed object gets
	size    int64
}

func newMP(f *fakeS3, key, id string, sizes ...int) *mp {
	m := &mp{key: key, id: id}
	for i, n := range sizes {
		m.parts = append(m.parts, []byte(strings.Repeat(string(rune('a'+i%26)), n)))
		m.size += int64(n)
	}
	m.etags, m.etag = f.upload(dstB, key, id, m.parts...)
	return m
}

// row is part n (1-based) of m as s3copy reports it.
func (m *mp) row(n int, status string) record.Result {
	var off int64
	for i := 0; i < n-1; i++ {
		off += int64(len(m.parts[i]))
	}
	r := record.Result{Plan: record.Plan{Key: m.key, ETag: m.etag, Size: m.size, MTime: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		SrcBucket: srcB, DstBucket: dstB, UploadID: m.id, PartNumber: int32(n), PartCount: int32(len(m.parts)),
		Offset: off, Length: int64(len(m.parts[n-1])), Verify: record.VerifyETag, Action: record.ActionPart}, Status: status}
	if status == record.StatusOK {
		r.DstETag = m.etags[n-1]
		r.Proof = record.ProofContentMD5
	} else {
		r.ErrorCode, r.HTTPStatus, r.Message = "InternalError", 500, fmt.Sprintf("upload part %d failed", n)
	}
	return r
}

type sink struct {
	mu   sync.Mutex
	rows []record.Report
}

func (s *sink) emit(r *record.Report) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows = append(s.rows, *r)
	return nil
}

func (s *sink) byKey(t *testing.T) map[string]record.Report {
	t.Helper()
	m := map[string]record.Report{}
	for _, r := range s.rows {
		if _, dup := m[r.Key]; dup {
			t.Errorf("key %q reported twice", r.Key)
		}
		m[r.Key] = r
	}
	return m
}

func runRows(t *testing.T, f *fakeS3, opt Options, rows []record.Result) (*sink, map[string]int64, error) {
	t.Helper()
	s := &sink{}
	set := NewCounters()
	if opt.Concurrency == 0 {
		opt.Concurrency = 4
	}
	c := New(context.Background(), f, opt, set, s.emit)
	for i := range rows {
		if err := c.Add(&rows[i]); err != nil {
			return s, set.Snapshot(), err
		}
	}
	err := c.Finish()
	if c.InFlight() != 0 {
		t.Errorf("%d uploads still in flight after Finish", c.InFlight())
	}
	return s, set.Snapshot(), err
}

func TestCompletesUnsortedInterleavedInput(t *testing.T) {
	f := newFake()
	a := newMP(f, "a", "up-a", 5, 5, 3)
	b := newMP(f, "b\tnasty\nkey", "up-b", 7, 2)
	rows := []record.Result{a.row(3, "ok"), b.row(2, "ok"), a.row(1, "ok"), b.row(1, "ok"), a.row(2, "ok")}
	s, cnt, err := runRows(t, f, Options{}, rows)
	if err != nil {
		t.Fatal(err)
	}
	got := s.byKey(t)
	for _, m := range []*mp{a, b} {
		r := got[m.key]
		if r.Status != record.OutcomeCopied || r.DstETag != m.etag || r.Proof != record.ProofETag || r.Size != m.size {
			t.Errorf("%q: got %+v, want copied with ETag %s proof etag", m.key, r, m.etag)
		}
		if o := f.order[m.id]; len(o) != len(m.parts) {
			t.Errorf("%q: completed with parts %v", m.key, o)
		}
		if r.Bucket != srcB || r.DstBucket != dstB || r.DstVersionID != "v1" {
			t.Errorf("%q: buckets/version %q %q %q", m.key, r.Bucket, r.DstBucket, r.DstVersionID)
		}
	}
	want := map[string]int64{"objects": 2, "copied": 2, "uploads_completed": 2, "bytes": 13 + 9, "failed": 0, "rows": 5}
	for k, v := range want {
		if cnt[k] != v {
			t.Errorf("counter %s = %d, want %d", k, cnt[k], v)
		}
	}
}

func TestCompletesAsSoonAsLastPartArrives(t *testing.T) {
	f := newFake()
	a := newMP(f, "a", "up-a", 5, 5)
	s := &sink{}
	c := New(context.Background(), f, Options{Concurrency: 2}, NewCounters(), s.emit)
	r1, r2 := a.row(2, "ok"), a.row(1, "ok")
	if err := c.Add(&r1); err != nil {
		t.Fatal(err)
	}
	if f.count("complete") != 0 {
		t.Fatal("completed before all parts arrived")
	}
	if err := c.Add(&r2); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.count("complete") == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if f.count("complete") != 1 {
		t.Fatal("upload not completed before end of input")
	}
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	if len(s.rows) != 1 {
		t.Fatalf("got %d rows", len(s.rows))
	}
}

func TestDuplicateParts(t *testing.T) {
	f := newFake()
	a := newMP(f, "a", "up-a", 5, 5, 5)
	bogus := a.row(2, "ok")
	bogus.DstETag = md5hex([]byte("an older upload of part 2"))
	failed2 := a.row(2, "failed")
	rows := []record.Result{
		a.row(1, "ok"), a.row(1, "ok"), // same ETag twice
		a.row(2, "ok"), bogus, // conflicting ETags: ListParts confirms the first
		failed2,        // failed after ok: the uploaded part stands
		a.row(3, "ok"), // completes
		a.row(3, "ok"), // late duplicate after completion: ignored
		a.row(1, "ok"), // idem
	}
	s, cnt, err := runRows(t, f, Options{}, rows)
	if err != nil {
		t.Fatal(err)
	}
	got := s.byKey(t)
	if r := got["a"]; r.Status != record.OutcomeCopied || r.DstETag != a.etag {
		t.Fatalf("got %+v", r)
	}
	if len(s.rows) != 1 {
		t.Fatalf("got %d report rows, want 1", len(s.rows))
	}
	if cnt["duplicates"] != 5 || f.count("listparts") != 1 || f.count("complete") != 1 {
		t.Errorf("duplicates %d, listparts %d, complete %d; want 5, 1, 1", cnt["duplicates"], f.count("listparts"), f.count("complete"))
	}
}

func TestFailedPart(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep=%v", keep), func(t *testing.T) {
			f := newFake()
			a := newMP(f, "a", "up-a", 5, 5, 5)
			rows := []record.Result{a.row(3, "failed"), a.row(1, "ok"), a.row(2, "failed")}
			s, cnt, err := runRows(t, f, Options{KeepFailedUploads: keep}, rows)
			if err != nil {
				t.Fatal(err)
			}
			r := s.byKey(t)["a"]
			if r.Status != record.OutcomeFailed || r.ErrorCode != "InternalError" || r.HTTPStatus != 500 ||
				!strings.HasPrefix(r.Message, "part 2 of 3: upload part 2 failed") {
				t.Errorf("got %+v, want failed with part 2's error", r)
			}
			if f.count("complete") != 0 {
				t.Error("an upload with a failed part was completed")
			}
			_, exists := f.uploads["up-a"]
			if exists != keep || (cnt["uploads_aborted"] == 1) == keep || (cnt["uploads_kept"] == 1) != keep {
				t.Errorf("keep=%v: upload exists %v, aborted %d, kept %d", keep, exists, cnt["uploads_aborted"], cnt["uploads_kept"])
			}
		})
	}
}

func TestNoSuchUploadChecksDestination(t *testing.T) {
	tests := []struct {
		name     string
		object   *fakeObject // destination object after the earlier attempt; nil = missing
		wantStat string
		wantCode string
	}{
		{"completed-earlier", &fakeObject{}, record.OutcomeCopied, ""},
		{"missing", nil, record.OutcomeFailed, "NoSuchUpload"},
		{"different-object", &fakeObject{etag: "0123456789abcdef0123456789abcdef-2"}, record.OutcomeFailed, CodeETagMismatch},
		{"different-size", &fakeObject{size: 3}, record.OutcomeFailed, CodeSizeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			a := newMP(f, "a", "up-a", 5, 5)
			delete(f.uploads, "up-a")
			if tt.object != nil {
				o := fakeObject{etag: a.etag, size: a.size}
				if tt.object.etag != "" {
					o.etag = tt.object.etag
				}
				if tt.object.size != 0 {
					o.size = tt.object.size
				}
				f.objects[dstB+"/a"] = o
			}
			s, _, err := runRows(t, f, Options{}, []record.Result{a.row(1, "ok"), a.row(2, "ok")})
			if err != nil {
				t.Fatal(err)
			}
			r := s.byKey(t)["a"]
			if r.Status != tt.wantStat || r.ErrorCode != tt.wantCode {
				t.Errorf("got %+v, want %s %s", r, tt.wantStat, tt.wantCode)
			}
			if f.count("head") != 1 {
				t.Errorf("head calls %d, want 1", f.count("head"))
			}
		})
	}
}

// Re-running s3copy on the plan rows of an upload that an earlier run
// completed: the part copies fail with NoSuchUpload, the object is there.
func TestPartsOfAFinishedUpload(t *testing.T) {
	for _, exists := range []bool{true, false} {
		f := newFake()
		a := newMP(f, "a", "up-a", 5, 5)
		delete(f.uploads, "up-a")
		if exists {
			f.objects[dstB+"/a"] = fakeObject{etag: a.etag, size: a.size}
		}
		rows := []record.Result{a.row(1, "failed"), a.row(2, "failed")}
		for i := range rows {
			rows[i].ErrorCode, rows[i].HTTPStatus = "NoSuchUpload", 404
		}
		s, _, err := runRows(t, f, Options{}, rows)
		if err != nil {
			t.Fatal(err)
		}
		r := s.byKey(t)["a"]
		want := map[bool]string{true: record.OutcomeCopied, false: record.OutcomeFailed}[exists]
		if r.Status != want || f.count("head") != 1 || f.count("complete") != 0 {
			t.Errorf("exists=%v: got %+v (head %d), want %s", exists, r, f.count("head"), want)
		}
	}
}

func TestETagMismatchIsFailure(t *testing.T) {
	f := newFake()
	a := newMP(f, "a", "up-a", 5, 5)
	rows := []record.Result{a.row(1, "ok"), a.row(2, "ok")}
	for i := range rows {
		rows[i].ETag = "ffffffffffffffffffffffffffffffff-2" // the source was uploaded with other parts
	}
	s, cnt, err := runRows(t, f, Options{}, rows)
	if err != nil {
		t.Fatal(err)
	}
	r := s.byKey(t)["a"]
	if r.Status != record.OutcomeFailed || r.ErrorCode != CodeETagMismatch || r.DstETag != a.etag {
		t.Errorf("got %+v, want failed ETagMismatch", r)
	}
	if cnt["failed"] != 1 || cnt["copied"] != 0 {
		t.Errorf("counters %v", cnt)
	}
}

func TestVerifySize(t *testing.T) {
	tests := []struct {
		name      string
		proofs    []string
		size      int64 // plan size override (0 = right)
		wantStat  string
		wantProof string
	}{
		{"content-md5", []string{record.ProofContentMD5, record.ProofContentMD5}, 0, record.OutcomeCopied, record.ProofContentMD5},
		{"mixed", []string{record.ProofContentMD5, record.ProofServer}, 0, record.OutcomeCopied, record.ProofServer},
		{"part-etags", []string{record.ProofETag, record.ProofETag}, 0, record.OutcomeCopied, record.ProofContentMD5},
		{"no-proof", []string{"", record.ProofContentMD5}, 0, record.OutcomeCopied, ProofSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			a := newMP(f, "a", "up-a", 5, 5)
			rows := []record.Result{a.row(1, "ok"), a.row(2, "ok")}
			for i := range rows {
				rows[i].Verify = record.VerifySize
				rows[i].ETag = "kms-etag-not-comparable-2"
				rows[i].Proof = tt.proofs[i]
			}
			s, _, err := runRows(t, f, Options{}, rows)
			if err != nil {
				t.Fatal(err)
			}
			r := s.byKey(t)["a"]
			if r.Status != tt.wantStat || r.Proof != tt.wantProof || f.count("head") != 1 {
				t.Errorf("got %+v (head %d), want %s proof %s", r, f.count("head"), tt.wantStat, tt.wantProof)
			}
		})
	}
	t.Run("size-mismatch", func(t *testing.T) {
		f := newFake()
		a := newMP(f, "a", "up-a", 5, 5)
		rows := []record.Result{a.row(1, "ok"), a.row(2, "ok")}
		for i := range rows {
			rows[i].Verify = record.VerifySize
		}
		// Make the completed object shorter than planned by shrinking part 2 in the fake.
		f.uploads["up-a"].parts[2] = fakePart{etag: a.etags[1], size: 4}
		s, _, err := runRows(t, f, Options{}, rows)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.byKey(t)["a"]; r.Status != record.OutcomeFailed || r.ErrorCode != CodeSizeMismatch {
			t.Errorf("got %+v, want SizeMismatch", r)
		}
	})
}

func TestMissingPartsAtEndOfInput(t *testing.T) {
	for _, abort := range []bool{false, true} {
		t.Run(fmt.Sprintf("abort=%v", abort), func(t *testing.T) {
			f := newFake()
			a := newMP(f, "a", "up-a", 5, 5, 5)
			b := newMP(f, "b", "up-b", 5, 5)
			s, cnt, err := runRows(t, f, Options{AbortIncomplete: abort},
				[]record.Result{a.row(1, "ok"), a.row(3, "ok"), b.row(1, "ok"), b.row(2, "ok")})
			if err != nil {
				t.Fatal(err)
			}
			got := s.byKey(t)
			if r := got["a"]; r.Status != record.OutcomeFailed || r.ErrorCode != CodeIncomplete ||
				!strings.HasPrefix(r.Message, "incomplete: 2 of 3 parts") {
				t.Errorf("got %+v", r)
			}
			if got["b"].Status != record.OutcomeCopied {
				t.Errorf("b: %+v", got["b"])
			}
			_, exists := f.uploads["up-a"]
			if exists == abort || cnt["uploads_kept"] != map[bool]int64{false: 1, true: 0}[abort] {
				t.Errorf("abort=%v: upload exists %v, kept %d", abort, exists, cnt["uploads_kept"])
			}
		})
	}
}

func TestSingleObjectRows(t *testing.T) {
	base := record.Result{Plan: record.Plan{ETag: "e", Size: 3, SrcBucket: srcB, DstBucket: dstB, Length: 3,
		Verify: record.VerifyETag, Action: record.ActionCopy}}
	mk := func(key, action, status string, mut func(*record.Result)) record.Result {
		r := base
		r.Key, r.Action, r.Status = key, action, status
		if mut != nil {
			mut(&r)
		}
		return r
	}
	rows := []record.Result{
		mk("copied", "copy", "ok", func(r *record.Result) { r.DstETag, r.Proof = "e", record.ProofETag }),
		mk("failed", "copy", "failed", func(r *record.Result) {
			r.ErrorCode, r.HTTPStatus, r.Message = "PreconditionFailed", 412, "source changed"
		}),
		mk("skip", "skip", "skipped", func(r *record.Result) { r.Note = "delete marker" }),
		mk("planfail", "fail", "failed", func(r *record.Result) { r.Note = "head part 2: AccessDenied" }),
		mk("retried", "copy", "failed", func(r *record.Result) { r.ErrorCode = "SlowDown" }),
		mk("retried", "copy", "ok", func(r *record.Result) { r.DstETag = "e" }),
		mk("retried", "copy", "failed", func(r *record.Result) { r.ErrorCode = "SlowDown" }),
	}
	s, cnt, err := runRows(t, newFake(), Options{}, rows)
	if err != nil {
		t.Fatal(err)
	}
	got := s.byKey(t)
	want := map[string][3]string{ // status, code, message
		"copied":   {"copied", "", ""},
		"failed":   {"failed", "PreconditionFailed", "source changed"},
		"skip":     {"skipped", "", "delete marker"},
		"planfail": {"failed", CodePlanFailed, "head part 2: AccessDenied"},
		"retried":  {"copied", "", ""},
	}
	for k, w := range want {
		r := got[k]
		if r.Status != w[0] || r.ErrorCode != w[1] || r.Message != w[2] {
			t.Errorf("%s: got %s %q %q, want %v", k, r.Status, r.ErrorCode, r.Message, w)
		}
	}
	if len(s.rows) != 5 || cnt["duplicates"] != 2 || cnt["failed"] != 2 || cnt["skipped"] != 1 || cnt["copied"] != 2 {
		t.Errorf("rows %d, counters %v", len(s.rows), cnt)
	}
}

func TestFatalErrorStopsRun(t *testing.T) {
	f := newFake()
	a := newMP(f, "a", "up-a", 5, 5)
	f.failWith["complete"] = apiErr("InvalidAccessKeyId")
	s, _, err := runRows(t, f, Options{}, []record.Result{a.row(1, "ok"), a.row(2, "ok")})
	if err == nil || !strings.Contains(err.Error(), "InvalidAccessKeyId") || !strings.Contains(err.Error(), "s3://dst/a") {
		t.Fatalf("got %v, want a fatal error naming the object", err)
	}
	if len(s.rows) != 0 {
		t.Errorf("reported %v on a fatal error", s.rows)
	}
}

func TestInconsistentPartRows(t *testing.T) {
	f := newFake()
	a := newMP(f, "a", "up-a", 5, 5)
	r2 := a.row(2, "ok")
	r2.PartCount = 3
	_, _, err := runRows(t, f, Options{}, []record.Result{a.row(1, "ok"), r2})
	if err == nil || !strings.Contains(err.Error(), "part_count 3") {
		t.Fatalf("got %v", err)
	}
}

// FuzzOneRowPerObject feeds random interleavings, duplicates, failures
// and omissions of part rows and checks the invariant: every object that
// had a row gets exactly one report row, and only fully ok uploads are
// completed.
func FuzzOneRowPerObject(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{255, 3, 9, 27, 81, 243})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 200 {
			return
		}
		fk := newFake()
		var objs []*mp
		for i := range 3 {
			objs = append(objs, newMP(fk, fmt.Sprintf("k%d", i), fmt.Sprintf("up%d", i), 3, 2, 1))
		}
		var rows []record.Result
		seen := map[string]bool{}
		for _, b := range data {
			m := objs[int(b)%3]
			n := int(b/3)%3 + 1
			status := record.StatusOK
			if b >= 240 {
				status = record.StatusFailed
			}
			rows = append(rows, m.row(n, status))
			seen[m.key] = true
		}
		rng := rand.New(rand.NewPCG(uint64(len(data)), 1))
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		s, _, err := runRows(t, fk, Options{}, rows)
		if err != nil {
			t.Fatal(err)
		}
		got := s.byKey(t)
		if len(got) != len(seen) {
			t.Fatalf("%d report rows for %d objects", len(got), len(seen))
		}
		for k := range seen {
			if _, ok := got[k]; !ok {
				t.Errorf("no report row for %s", k)
			}
		}
	})
}

// BenchmarkParts measures collecting and completing part rows (the fake's
// completion is cheap, so this is s3mpdone's own cost per row).
func BenchmarkParts(b *testing.B) {
	const uploads, parts = 100, 50
	sizes := make([]int, parts)
	for i := range sizes {
		sizes[i] = 1
	}
	for b.Loop() {
		b.StopTimer()
		f := newFake()
		var rows []record.Result
		for u := range uploads {
			m := newMP(f, fmt.Sprintf("key/%d", u), fmt.Sprintf("up%d", u), sizes...)
			for n := parts; n >= 1; n-- {
				rows = append(rows, m.row(n, record.StatusOK))
			}
		}
		c := New(context.Background(), f, Options{Concurrency: 8}, NewCounters(), func(*record.Report) error { return nil })
		b.StartTimer()
		for i := range rows {
			if err := c.Add(&rows[i]); err != nil {
				b.Fatal(err)
			}
		}
		if err := c.Finish(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(uploads*parts), "rows/op")
}

// An interrupt stops input but records the work in flight: uploads whose
// parts are all in are completed, the others reported incomplete (kept).
func TestInterruptRecordsWorkInFlight(t *testing.T) {
	f := newFake()
	a := newMP(f, "a", "up-a", 5, 5)
	b := newMP(f, "b", "up-b", 5, 5)
	ctx, cancel := context.WithCancel(context.Background())
	s := &sink{}
	c := New(ctx, f, Options{Concurrency: 2}, NewCounters(), s.emit)
	for _, r := range []record.Result{a.row(1, "ok"), b.row(1, "ok"), a.row(2, "ok")} {
		if err := c.Add(&r); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	late := b.row(2, "ok")
	if err := c.Add(&late); err == nil {
		t.Fatal("Add accepted a row after the interrupt")
	}
	if err := c.Finish(); err != context.Canceled {
		t.Fatalf("Finish: %v, want context.Canceled", err)
	}
	got := s.byKey(t)
	if got["a"].Status != record.OutcomeCopied || got["b"].ErrorCode != CodeIncomplete {
		t.Errorf("got %+v", got)
	}
	if _, kept := f.uploads["up-b"]; !kept {
		t.Error("the interrupted upload was not kept")
	}
}

// Under Hadoop the reducer gets the rows sorted by the whole line (byte
// order), with a retried mapper's duplicates next to the originals.
func TestSortedReducerInput(t *testing.T) {
	f := newFake()
	var rows []record.Result
	for i := range 3 {
		m := newMP(f, fmt.Sprintf("k%d", i), fmt.Sprintf("up%d", i), 5, 5, 5)
		for n := 1; n <= 3; n++ {
			rows = append(rows, m.row(n, "ok"), m.row(n, "ok")) // every row twice
		}
	}
	var lines []string
	for i := range rows {
		var b strings.Builder
		w := tsv.NewWriter(&b)
		rows[i].Write(w)
		w.Flush()
		lines = append(lines, b.String())
	}
	slices.Sort(lines)
	in := tsv.NewReader(strings.NewReader(strings.Join(lines, "")))
	var sorted []record.Result
	for {
		fields, err := in.Read()
		if err != nil {
			break
		}
		var r record.Result
		if err := record.ParseResult(fields, &r); err != nil {
			t.Fatal(err)
		}
		sorted = append(sorted, r)
	}
	if len(sorted) != len(rows) {
		t.Fatalf("read back %d rows of %d", len(sorted), len(rows))
	}
	s, cnt, err := runRows(t, f, Options{}, sorted)
	if err != nil {
		t.Fatal(err)
	}
	got := s.byKey(t)
	for i := range 3 {
		if r := got[fmt.Sprintf("k%d", i)]; r.Status != record.OutcomeCopied {
			t.Errorf("k%d: %+v", i, r)
		}
	}
	if len(s.rows) != 3 || cnt["duplicates"] != 9 || cnt["uploads_completed"] != 3 {
		t.Errorf("%d rows, counters %v", len(s.rows), cnt)
	}
}
