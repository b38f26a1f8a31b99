package e2e

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3err"
	"github.com/s3pipe/s3pipe/lib/s3test"
)

// Killed processes (issue 7): the whole chain
//
//	s3list | s3diff | s3mpplan | s3copy | s3mpdone
//
// runs as one pipeline and one stage gets SIGKILL at a random (seeded) moment.
// Then the chain is re-run, at most twice, and must converge to what an
// undisturbed run leaves: the destination holds every source key with the
// source's ETag and properties, s3diff finds nothing left to copy, and after
// `s3mpdone --cleanup --older-than 0s` no multipart upload is left. The test
// logs how much the re-runs sent again (docs/RELIABILITY.md, "Killed
// processes").
//
// Seeds: 10 in CI (3 with -short), 40 with S3PIPE_SOAK=1 (make soak), or
// S3PIPE_KILL_SEEDS=N.

// killSchedule pairs the stage to kill with the copy mode, so that the first
// ten seeds kill every stage in both modes (s3copy and s3mpdone, whose deaths
// leave the most behind, twice).
var killSchedule = []struct{ victim, mode string }{
	{"s3copy", "stream"}, {"s3mpplan", "server"}, {"s3mpdone", "stream"}, {"s3list", "server"},
	{"s3copy", "server"}, {"s3mpdone", "server"}, {"s3mpplan", "stream"}, {"s3diff", "stream"},
	{"s3list", "stream"}, {"s3diff", "server"},
}

func killSeeds(t *testing.T) int {
	n := len(killSchedule)
	if testing.Short() {
		n = 3
	}
	if os.Getenv("S3PIPE_SOAK") == "1" {
		n = 40
	}
	if v := os.Getenv("S3PIPE_KILL_SEEDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("S3PIPE_KILL_SEEDS=%q: want a positive number", v)
		}
	}
	return n
}

// killSource is the seeded source bucket, shared by every seed (the test
// never changes it, so any destination ETag other than the source's means
// an object was copied wrong or from another version).
type killSource struct {
	bucket string
	etag   map[string]string // key -> ETag
	size   map[string]int64
	props  []string // keys seeded with Content-Type, Cache-Control and user metadata
	total  int64
	parts  int // multipart objects
}

// Multipart layouts of the source (5 and 8 MiB parts, a short last part):
// 69 MiB in 6 objects and 15 parts.
var killLayouts = [][]int64{
	{5 * mib, 5 * mib, 2 * mib}, {8 * mib, 3 * mib}, {5 * mib, 5 * mib, 1 * mib},
	{8 * mib, 8 * mib, 1 * mib}, {5 * mib, 1 * mib}, {8 * mib, 4 * mib},
}

const killSmall = 300 // small objects, 0..128 KiB

func seedKillSource(t *testing.T, srv *s3test.Server) *killSource {
	t.Helper()
	c := srv.Client(t)
	ks := &killSource{bucket: srv.Bucket(t, false), etag: map[string]string{}, size: map[string]int64{}}
	rng := rand.New(rand.NewPCG(7, 7))
	type obj struct {
		key   string
		size  int64
		parts []int64
		props bool
	}
	var objs []obj
	// The multipart objects are spread through the key space (the tools
	// work in key order), so a kill at any moment may catch one.
	large := 0
	for i := range killSmall + len(killLayouts) {
		if i%(killSmall/len(killLayouts)+1) == 20 && large < len(killLayouts) {
			l := killLayouts[large]
			var n int64
			for _, p := range l {
				n += p
			}
			objs = append(objs, obj{key: fmt.Sprintf("obj/%03d-large", i), size: n, parts: l, props: large%2 == 0})
			large++
			continue
		}
		size := rng.Int64N(128 << 10)
		if i%25 == 0 {
			size = 0
		}
		objs = append(objs, obj{key: fmt.Sprintf("obj/%03d", i), size: size, props: i%7 == 0})
	}
	ks.parts = large
	for _, k := range nastyKeys {
		objs = append(objs, obj{key: "obj/" + k, size: int64(len(k)), props: true})
	}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	work := make(chan obj)
	for range 8 {
		wg.Go(func() {
			for o := range work {
				body := s3test.RandomBytes(o.size, uint64(len(o.key))<<32^uint64(o.size))
				meta := map[string]string{"origin": "kill-test", "key-len": strconv.Itoa(len(o.key))}
				var etag string
				var err error
				if o.parts != nil {
					var out *s3.CompleteMultipartUploadOutput
					if out, err = putMultipart(c, ks.bucket, o.key, body, o.parts, o.props, meta); err == nil {
						etag = aws.ToString(out.ETag)
					}
				} else {
					in := &s3.PutObjectInput{Bucket: &ks.bucket, Key: aws.String(o.key), Body: bytes.NewReader(body), ContentLength: aws.Int64(o.size)}
					if o.props {
						in.ContentType, in.CacheControl, in.Metadata = aws.String("text/x-kill; charset=utf-8"), aws.String("no-cache"), meta
					}
					var out *s3.PutObjectOutput
					if out, err = c.PutObject(context.Background(), in); err == nil {
						etag = aws.ToString(out.ETag)
					}
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("put %q: %w", o.key, err))
				} else {
					ks.etag[o.key] = strings.Trim(etag, `"`)
					ks.size[o.key] = o.size
					ks.total += o.size
					if o.props {
						ks.props = append(ks.props, o.key)
					}
				}
				mu.Unlock()
			}
		})
	}
	for _, o := range objs {
		work <- o
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 || len(ks.etag) != len(objs) {
		t.Fatalf("seeding: %d of %d objects, errors %v", len(ks.etag), len(objs), errs)
	}
	slices.Sort(ks.props)
	return ks
}

// putMultipart uploads body in parts of the given sizes (s3test's helper
// fails the test, which a seeding goroutine must not do).
func putMultipart(c *s3.Client, bucket, key string, body []byte, sizes []int64, props bool, meta map[string]string) (*s3.CompleteMultipartUploadOutput, error) {
	ctx := context.Background()
	in := &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key}
	if props {
		in.ContentType, in.CacheControl, in.Metadata = aws.String("application/x-kill"), aws.String("max-age=7"), meta
	}
	up, err := c.CreateMultipartUpload(ctx, in)
	if err != nil {
		return nil, err
	}
	var parts []types.CompletedPart
	var off int64
	for i, n := range sizes {
		pn := aws.Int32(int32(i + 1))
		p, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId, PartNumber: pn,
			Body: bytes.NewReader(body[off : off+n]), ContentLength: aws.Int64(n)})
		if err != nil {
			return nil, fmt.Errorf("upload part %d: %w", *pn, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: pn, ETag: p.ETag})
		off += n
	}
	return c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
}

// killRun is one run of the five-stage pipeline with (maybe) one stage
// killed.
type killRun struct {
	stages  []*stage
	exited  []time.Duration // when each stage exited, from the start
	victim  int             // index into stages; -1 = none
	delay   time.Duration
	landed  bool // the victim was still running when the signal was sent
	elapsed time.Duration
}

var chainTools = []string{"s3list", "s3diff", "s3mpplan", "s3copy", "s3mpdone"}

// runKillChain runs s3list | s3diff | s3mpplan | s3copy | s3mpdone > report
// with the stages connected by os.Pipe, and sends SIGKILL to stage victim
// (-1: none) after delay. The other stages meet EOF or a broken pipe and
// end on their own: that is the crash being tested.
func (e *env) runKillChain(dstList, report, mode string, victim int, delay time.Duration) *killRun {
	e.t.Helper()
	cmds := []*exec.Cmd{
		e.cmd("s3list", "--bucket", e.srcB),
		e.cmd("s3diff", "--dst", dstList),
		e.cmd("s3mpplan", "--dst-bucket", e.dstB),
		e.cmd("s3copy", "--mode", mode),
		e.cmd("s3mpdone"),
	}
	out, err := os.Create(report)
	if err != nil {
		e.t.Fatal(err)
	}
	defer out.Close()
	r := &killRun{victim: victim, delay: delay, exited: make([]time.Duration, len(cmds))}
	var ends []*os.File // the parent's copies of the pipe ends, closed once all have started
	var prev *os.File
	for i, c := range cmds {
		s := &stage{cmd: c}
		r.stages = append(r.stages, s)
		c.Stderr = &s.stderr
		if prev != nil {
			c.Stdin = prev
		}
		if i == len(cmds)-1 {
			c.Stdout = out
			continue
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			e.t.Fatal(err)
		}
		c.Stdout = pw
		ends = append(ends, pr, pw)
		prev = pr
	}
	start := time.Now()
	for _, s := range r.stages {
		if err := s.cmd.Start(); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, f := range ends {
		f.Close()
	}
	done := make([]chan struct{}, len(cmds))
	for i, s := range r.stages {
		done[i] = make(chan struct{})
		go func() {
			s.err = s.cmd.Wait()
			r.exited[i] = time.Since(start)
			close(done[i])
		}()
	}
	if victim >= 0 {
		select {
		case <-time.After(delay):
			r.landed = r.stages[victim].cmd.Process.Signal(syscall.SIGKILL) == nil
		case <-done[victim]:
		}
	}
	// A hung stage would hang the test: give up after a generous deadline.
	deadline := time.After(5 * time.Minute)
	for i := range done {
		select {
		case <-done[i]:
		case <-deadline:
			for _, s := range r.stages {
				s.cmd.Process.Kill()
			}
			e.t.Fatalf("pipeline did not end within 5 minutes; %s still running", r.stages[i].name())
		}
	}
	r.elapsed = time.Since(start)
	return r
}

// killedBy reports whether the stage died of SIGKILL.
func (s *stage) killedBy(sig syscall.Signal) bool {
	ee, ok := s.err.(*exec.ExitError)
	if !ok {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// how is a short exit description for the table: 0, 1, 2, 3, KILL, PIPE.
func (s *stage) how() string {
	switch {
	case s.killedBy(syscall.SIGKILL):
		return "KILL"
	case s.killedBy(syscall.SIGPIPE):
		return "PIPE"
	}
	return strconv.Itoa(s.exitCode())
}

// noPanic fails the test if any stage's stderr shows a Go panic (a panic
// exits 2, like a usage error, so the exit code alone cannot tell).
func noPanic(t *testing.T, stages []*stage) {
	t.Helper()
	for _, s := range stages {
		if err := s.stderr.String(); strings.Contains(err, "panic:") || strings.Contains(err, "goroutine ") {
			t.Errorf("%s panicked:\n%s", s.name(), lastLines(err, 40))
		}
	}
}

// dstState is what the destination holds: objects and open uploads.
type dstState struct {
	etag         map[string]string
	size         map[string]int64
	uploads      int
	uploadParts  int
	uploadBytes  int64
	correctBytes int64 // objects whose ETag equals the source's
	correct      int
}

func (e *env) destinationState(ks *killSource) dstState {
	t := e.t
	t.Helper()
	c := e.dst.Client(t)
	st := dstState{etag: listing(t, c, e.dstB), size: map[string]int64{}}
	for k, et := range st.etag {
		src, ok := ks.etag[k]
		switch {
		case !ok:
			t.Errorf("destination key %q is not in the source", k)
		case et != src:
			// The source never changes in this test: a different ETag is
			// a corrupt copy or a copy of another version.
			t.Errorf("destination key %q: ETag %s, source %s", k, et, src)
		default:
			st.correct++
			st.correctBytes += ks.size[k]
		}
	}
	ctx := context.Background()
	p := s3.NewListMultipartUploadsPaginator(c, &s3.ListMultipartUploadsInput{Bucket: &e.dstB})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Uploads {
			st.uploads++
			parts, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: &e.dstB, Key: u.Key, UploadId: u.UploadId})
			if s3err.IsNotFound(err) {
				// Completed meanwhile: a CompleteMultipartUpload the dead
				// process had sent, which the server finished after the kill.
				st.uploads--
				continue
			}
			if err != nil {
				t.Fatalf("list parts of upload %s of %q: %v", aws.ToString(u.UploadId), aws.ToString(u.Key), err)
			}
			for _, pt := range parts.Parts {
				st.uploadParts++
				st.uploadBytes += aws.ToInt64(pt.Size)
			}
		}
	}
	return st
}

// toCopy runs s3list (source) | s3diff against a fresh destination listing
// and returns the keys s3diff would copy.
func (e *env) toCopy(tag string) []string {
	e.t.Helper()
	dstList := e.path(tag + ".dst.tsv")
	e.mustOK(e.pipeline("", dstList, e.listDstCmd("--bucket", e.dstB)))
	out := e.path(tag + ".diff.tsv")
	e.mustOK(e.pipeline("", out, e.cmd("s3list", "--bucket", e.srcB), e.cmd("s3diff", "--dst", dstList)))
	var keys []string
	for _, f := range readRows(e.t, out, record.ObjectColumns) {
		keys = append(keys, string(f[0]))
	}
	return keys
}

// sameProps compares Content-Type, Cache-Control and user metadata of the
// keys seeded with them.
func (e *env) sameProps(keys []string) {
	e.t.Helper()
	sc, dc := e.src.Client(e.t), e.dst.Client(e.t)
	ctx := context.Background()
	for _, k := range keys {
		a, err := sc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &e.srcB, Key: aws.String(k)})
		if err != nil {
			e.t.Fatalf("head source %q: %v", k, err)
		}
		b, err := dc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &e.dstB, Key: aws.String(k)})
		if err != nil {
			e.t.Errorf("head destination %q: %v", k, err)
			continue
		}
		if aws.ToString(a.ContentType) != aws.ToString(b.ContentType) || aws.ToString(a.CacheControl) != aws.ToString(b.CacheControl) ||
			!maps.Equal(a.Metadata, b.Metadata) {
			e.t.Errorf("%q: destination properties %q %q %v, source %q %q %v", k, aws.ToString(b.ContentType), aws.ToString(b.CacheControl),
				b.Metadata, aws.ToString(a.ContentType), aws.ToString(a.CacheControl), a.Metadata)
		}
	}
}

// killRow is one line of the measurement table.
type killRow struct {
	seed                     int
	victim, mode             string
	delay                    time.Duration
	landed                   bool
	exits                    string // exit of each stage, in chain order
	reportRows               int    // rows s3mpdone wrote before/after the kill
	correct                  int    // objects complete and correct after the kill
	correctBytes             int64
	uploads, parts           int // open uploads after the kill and their parts
	uploadBytes              int64
	reruns                   int
	rerunBytes, resumedParts int64
	aborted                  int // uploads cleanup aborted
	missed                   int // attempts whose victim exited before its kill
}

// killAttempts bounds the runs per seed when the victim keeps exiting
// before the kill (the last run then counts as undisturbed).
const killAttempts = 3

func (r killRow) String() string {
	land := "yes"
	if !r.landed {
		land = "no (exited)"
	}
	if r.missed > 0 {
		land += fmt.Sprintf(", %d miss", r.missed)
	}
	rep := "(killed)"
	if r.reportRows >= 0 {
		rep = strconv.Itoa(r.reportRows)
	}
	return fmt.Sprintf("| %d | %s | %s | %v | %s | %s | %s | %d (%.1f MiB) | %d / %d (%.1f MiB) | %d | %.1f MiB | %d | %d |",
		r.seed, r.victim, r.mode, r.delay.Round(time.Millisecond), land, r.exits, rep, r.correct, float64(r.correctBytes)/mib,
		r.uploads, r.parts, float64(r.uploadBytes)/mib, r.reruns, float64(r.rerunBytes)/mib, r.resumedParts, r.aborted)
}

const killTableHeader = "| seed | killed | mode | after | landed | exits (list diff plan copy done) | report rows | complete after kill | open uploads / parts (bytes) | re-runs | re-run sent | resumed parts | uploads aborted by cleanup |\n" +
	"|---|---|---|---|---|---|---|---|---|---|---|---|---|"

func TestKillChainConverges(t *testing.T) {
	src, b := s3test.A(t), s3test.B(t)
	needTools(t)
	ks := seedKillSource(t, src)
	t.Logf("source: %d objects (%d multipart), %.1f MiB", len(ks.etag), ks.parts, float64(ks.total)/mib)
	dsts := map[string]*s3test.Server{"stream": b, "server": src}
	newKillEnv := func(t *testing.T, mode string) *env {
		dst := dsts[mode]
		return &env{t: t, dir: t.TempDir(), src: src, dst: dst, srcB: ks.bucket, dstB: dst.Bucket(t, false)}
	}

	// Undisturbed runs, one per mode: the state every killed run must
	// converge to, and when each stage exits (the window to kill it in).
	windows := map[string][]time.Duration{}
	for _, mode := range []string{"stream", "server"} {
		t.Run("undisturbed-"+mode, func(t *testing.T) {
			e := newKillEnv(t, mode)
			dstList := e.path("dst.tsv")
			e.mustOK(e.pipeline("", dstList, e.listDstCmd("--bucket", e.dstB)))
			r := e.runKillChain(dstList, e.path("report.tsv"), mode, -1, 0)
			noPanic(t, r.stages)
			e.mustOK(r.stages)
			checkOneRowEach(t, readReport(t, e.path("report.tsv")), statusAll(slices.Collect(maps.Keys(ks.etag)), record.OutcomeCopied))
			e.sameContents()
			e.sameProps(ks.props)
			if n := r.stages[3].counters()["bytes"]; n != ks.total {
				t.Errorf("s3copy copied %d bytes, the source holds %d", n, ks.total)
			}
			windows[mode] = r.exited
			t.Logf("undisturbed %s run: %v; stages exited at %v", mode, r.elapsed.Round(time.Millisecond), r.exited)
		})
	}
	if t.Failed() {
		t.FailNow()
	}

	var rows []killRow
	for seed := 1; seed <= killSeeds(t); seed++ {
		sched := killSchedule[(seed-1)%len(killSchedule)]
		t.Run(fmt.Sprintf("seed%d-%s-%s", seed, sched.victim, sched.mode), func(t *testing.T) {
			rows = append(rows, killOnce(t, newKillEnv(t, sched.mode), ks, seed, sched.victim, sched.mode, windows[sched.mode]))
		})
	}
	var tab strings.Builder
	var rerun, sentTwice int64
	landed := 0
	for _, r := range rows {
		tab.WriteString(r.String() + "\n")
		rerun += r.rerunBytes
		sentTwice += r.uploadBytes
		if r.landed {
			landed++
		}
	}
	if len(rows) >= 3 && landed == 0 {
		t.Errorf("no kill landed in %d seeds: every victim exited before its kill", len(rows))
	}
	if len(rows) > 0 {
		t.Logf("source %.1f MiB in %d objects; %d seeds, %d kills landed:\n%s\n%s\nre-runs sent %.1f MiB in all (%.0f%% of one copy of the source per kill); "+
			"parts already uploaded before the kill and sent again: %.1f MiB (%.1f%% of the data per kill)",
			float64(ks.total)/mib, len(ks.etag), len(rows), landed, killTableHeader, tab.String(), float64(rerun)/mib,
			100*float64(rerun)/float64(ks.total)/float64(len(rows)), float64(sentTwice)/mib,
			100*float64(sentTwice)/float64(ks.total)/float64(len(rows)))
	}
}

// killOnce runs the chain into an empty destination, kills one stage, and
// re-runs the chain until s3diff finds nothing to copy (at most twice).
func killOnce(t *testing.T, e *env, ks *killSource, seed int, victimName, mode string, window []time.Duration) killRow {
	victim := slices.Index(chainTools, victimName)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6b696c6c))
	row := killRow{seed: seed, victim: victimName, mode: mode}
	var r *killRun
	for attempt := 1; ; attempt++ {
		// Anywhere between the start and 90% of the time the stage took
		// in the latest undisturbed run.
		row.delay = time.Duration(rng.Int64N(int64(window[victim])*9/10 + 1))
		dstList := e.path("dst0.tsv")
		e.mustOK(e.pipeline("", dstList, e.listDstCmd("--bucket", e.dstB)))
		r = e.runKillChain(dstList, e.path("killed.report.tsv"), mode, victim, row.delay)
		if r.landed || attempt == killAttempts {
			break
		}
		// The stage ended before its time came: the machine (shared,
		// with varying load) ran faster than in the run the window came
		// from. That run was undisturbed: take its timing as the window
		// and try again, into a fresh bucket.
		noPanic(t, r.stages)
		e.mustOK(r.stages)
		t.Logf("attempt %d: %s exited at %v, before the kill at %v; retrying", attempt, victimName, r.exited[victim], row.delay)
		copy(window, r.exited)
		row.missed++
		e.dstB = e.dst.Bucket(t, false)
	}
	row.landed = r.landed
	var exits []string
	for _, s := range r.stages {
		exits = append(exits, s.how())
	}
	row.exits = strings.Join(exits, " ")
	noPanic(t, r.stages)
	if r.landed && !r.stages[victim].killedBy(syscall.SIGKILL) {
		t.Errorf("%s: %v, want killed by SIGKILL", victimName, r.stages[victim].err)
	}
	for _, s := range r.stages {
		t.Logf("killed run: %s %s: %s", s.name(), s.how(), lastLines(grepNot(s.stderr.String(), "reporter:"), 3))
	}

	// What the crashed run left: complete objects must be right; the
	// report (unless s3mpdone itself died mid-line) has at most one row
	// per object, and a copied row only for a correct object.
	before := e.destinationState(ks)
	row.correct, row.correctBytes = before.correct, before.correctBytes
	row.uploads, row.parts, row.uploadBytes = before.uploads, before.uploadParts, before.uploadBytes
	if victimName != "s3mpdone" {
		rep := readReport(t, e.path("killed.report.tsv"))
		row.reportRows = len(rep)
		for k, rs := range rep {
			if len(rs) != 1 {
				t.Errorf("killed run: %q has %d report rows", k, len(rs))
			}
			if rs[0].Status == record.OutcomeCopied && before.etag[k] != ks.etag[k] {
				t.Errorf("killed run reports %q copied, but the destination has ETag %q (source %s)", k, before.etag[k], ks.etag[k])
			}
		}
	} else {
		row.reportRows = -1
	}

	// Re-run the chain until s3diff finds nothing left (at most twice).
	// A request the dead process had fully sent may still complete at the
	// server after the kill, so the destination can only gain objects
	// between the snapshots: s3diff must want every key not correct in the
	// later one, and none that was correct in the earlier one.
	want := e.toCopy("after-kill")
	later := e.destinationState(ks)
	wanted := map[string]bool{}
	for _, k := range want {
		wanted[k] = true
		if before.etag[k] == ks.etag[k] {
			t.Errorf("after the kill s3diff wants %q copied, but the destination already holds it", k)
		}
	}
	for k, et := range ks.etag {
		if later.etag[k] != et && !wanted[k] {
			t.Errorf("after the kill s3diff does not want %q copied, but the destination has ETag %q (source %s)", k, later.etag[k], et)
		}
	}
	if later.correct != before.correct {
		t.Logf("%d object(s) arrived at the destination after the kill (requests sent before it)", later.correct-before.correct)
	}
	for row.reruns = 1; len(want) > 0; row.reruns++ {
		if row.reruns > 2 {
			t.Fatalf("no convergence after 2 re-runs: %d objects still differ, e.g. %q", len(want), want[0])
		}
		tag := fmt.Sprintf("rerun%d", row.reruns)
		c := e.runChain(tag, "--mode", mode)
		noPanic(t, append(append(append([]*stage{}, c.list...), c.plan...), c.copyDone...))
		e.mustOK(c.copyDone)
		// The re-run plans exactly what s3diff said was missing, and its
		// report has one copied row for each of them and nothing else.
		checkOneRowEach(t, c.report, statusAll(want, record.OutcomeCopied))
		cnt := c.copy().counters()
		row.rerunBytes += cnt["bytes"]
		row.resumedParts += cnt["resumed_parts"]
		want = e.toCopy(tag)
	}
	row.reruns--
	e.sameContents()
	e.sameProps(ks.props)

	// Only uploads the crash abandoned may be left; cleanup aborts them.
	after := e.destinationState(ks)
	if after.uploads > before.uploads {
		t.Errorf("%d uploads open after the re-runs, %d after the kill: a re-run left uploads behind", after.uploads, before.uploads)
	}
	cl := e.cmd("s3mpdone", "--cleanup", "--bucket", e.dstB, "--older-than", "0s")
	var clErr strings.Builder
	cl.Stderr = &clErr
	out, err := cl.Output()
	if err != nil {
		t.Errorf("cleanup: %v\n%s", err, clErr.String())
	}
	row.aborted = bytes.Count(out, []byte{'\n'})
	if row.aborted != after.uploads {
		t.Errorf("cleanup wrote %d rows for %d open uploads", row.aborted, after.uploads)
	}
	if n := uploadsLeft(t, e.dst.Client(t), e.dstB); n != 0 {
		t.Errorf("%d uploads left after cleanup", n)
	}
	t.Log(row.String())
	return row
}

// grepNot drops the lines that start with prefix.
func grepNot(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, prefix) {
			b.WriteString(l)
		}
	}
	return b.String()
}
