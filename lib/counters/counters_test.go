package counters

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// Counters leave as deltas, in whole lines, never one line per event, and
// the deltas add up to the totals.
func TestReporterDeltas(t *testing.T) {
	set := New("s3copy", "rows", "bytes", "failed")
	var mu sync.Mutex
	var b strings.Builder
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return b.Write(p) })
	r := Start(set, w, Options{Mode: ModeReporter, Interval: 20 * time.Millisecond, Progress: Progress{Records: "rows"}})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				set.Inc("rows")
				set.Add("bytes", 10)
			}
		}()
	}
	time.Sleep(60 * time.Millisecond)
	wg.Wait()
	r.Stop()
	mu.Lock()
	out := b.String()
	mu.Unlock()
	got := ParseReporterLines(out)
	if got["s3copy,rows"] != 8000 || got["s3copy,bytes"] != 80000 || got["s3copy,failed"] != 0 {
		t.Errorf("summed counters %v from:\n%s", got, out)
	}
	lines := strings.Count(out, "reporter:counter:")
	if lines > 2*10 {
		t.Errorf("%d counter lines for 16,000 events: counters must be aggregated", lines)
	}
	if !strings.Contains(out, "reporter:status:") {
		t.Errorf("no heartbeat status line:\n%s", out)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(l, "reporter:") {
			t.Errorf("torn or foreign line %q", l)
		}
	}
}

func TestProgressAndPrintf(t *testing.T) {
	set := New("s3list", "objects", "bytes", "errors")
	var b strings.Builder
	r := Start(set, &b, Options{Mode: ModeProgress, ProgressInterval: time.Hour, Progress: Progress{Records: "objects", Bytes: "bytes", Errors: "errors"}})
	set.Add("objects", 3)
	set.Add("bytes", 3<<20)
	r.Printf("warning: %s", "x")
	r.Stop()
	out := b.String()
	if !strings.Contains(out, "warning: x\n") || !strings.Contains(out, "3 objects") || !strings.Contains(out, "3.0 MiB") || !strings.Contains(out, "0 errors") || !strings.HasSuffix(out, "\n") {
		t.Errorf("progress output %q", out)
	}
	if strings.Contains(out, "reporter:") {
		t.Errorf("progress mode wrote reporter lines: %q", out)
	}
}

func TestQuietWritesNothing(t *testing.T) {
	set := New("g", "n")
	var b strings.Builder
	r := Start(set, &b, Options{Mode: ModeQuiet})
	set.Inc("n")
	r.Printf("an error still shows")
	r.Stop()
	if b.String() != "an error still shows\n" {
		t.Errorf("quiet mode wrote %q", b.String())
	}
}

func TestUnknownCounterPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("an unknown counter name must be caught by tests")
		}
	}()
	New("g", "a").Inc("b")
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 5 << 30: "5.0 GiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
