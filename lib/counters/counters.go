// Package counters owns a tool's fixed set of named counters and how they
// leave the process: Hadoop streaming reporter lines (deltas, periodically
// and at exit, never one per object), a heartbeat status line, or one live
// progress line on a terminal.
package counters

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Set is a fixed set of counters of one group. Names are fixed at New so a
// Hadoop job never exceeds its counter limit (120 by default).
type Set struct {
	group string
	names []string
	idx   map[string]int
	vals  []atomic.Int64
}

// New returns a Set with the given names, in report order.
func New(group string, names ...string) *Set {
	s := &Set{group: group, names: names, idx: make(map[string]int, len(names)), vals: make([]atomic.Int64, len(names))}
	for i, n := range names {
		s.idx[n] = i
	}
	return s
}

// Group is the Hadoop counter group.
func (s *Set) Group() string { return s.group }

// Names lists the counter names in order.
func (s *Set) Names() []string { return s.names }

// Counter returns the handle of a counter for hot paths. It panics on an
// unknown name: that is a programming error, caught by any test that runs
// the code path.
func (s *Set) Counter(name string) *atomic.Int64 {
	i, ok := s.idx[name]
	if !ok {
		panic("counters: unknown counter " + name)
	}
	return &s.vals[i]
}

// Add adds n to the named counter.
func (s *Set) Add(name string, n int64) { s.Counter(name).Add(n) }

// Inc adds one.
func (s *Set) Inc(name string) { s.Counter(name).Add(1) }

// Get reads a counter.
func (s *Set) Get(name string) int64 { return s.Counter(name).Load() }

// Snapshot returns all values by name.
func (s *Set) Snapshot() map[string]int64 {
	m := make(map[string]int64, len(s.names))
	for i, n := range s.names {
		m[n] = s.vals[i].Load()
	}
	return m
}

// Mode is how counters are shown.
type Mode int

const (
	ModeReporter Mode = iota // Hadoop streaming reporter lines (also the default off a terminal)
	ModeProgress             // one live line on a terminal, summary at exit
	ModeQuiet                // nothing
)

// Progress names which counters the live line shows.
type Progress struct {
	Records string // e.g. "objects"
	Bytes   string // may be empty
	Errors  string // may be empty
}

// Reporter writes counters to stderr. It is the only writer of reporter
// lines; Printf lets the tool print whole lines without interleaving.
type Reporter struct {
	set      *Set
	w        io.Writer
	mode     Mode
	prog     Progress
	interval time.Duration
	status   atomic.Value // string

	mu       sync.Mutex
	reported []int64
	start    time.Time
	lineOpen bool
	done     chan struct{}
	wg       sync.WaitGroup
	now      func() time.Time
}

// Options configure a Reporter.
type Options struct {
	Mode     Mode
	Progress Progress
	// Interval between reporter flushes / heartbeats (default 30s; Hadoop
	// kills a task silent for mapreduce.task.timeout, 600s by default).
	Interval time.Duration
	// ProgressInterval between live-line refreshes (default 500ms).
	ProgressInterval time.Duration
}

// Start begins periodic reporting to w. Call Stop at exit.
func Start(set *Set, w io.Writer, o Options) *Reporter {
	r := &Reporter{set: set, w: w, mode: o.Mode, prog: o.Progress, interval: o.Interval,
		reported: make([]int64, len(set.names)), done: make(chan struct{}), now: time.Now}
	r.start = r.now()
	r.status.Store("")
	if r.interval <= 0 {
		r.interval = 30 * time.Second
	}
	tick := r.interval
	if r.mode == ModeProgress {
		tick = o.ProgressInterval
		if tick <= 0 {
			tick = 500 * time.Millisecond
		}
	}
	if r.mode != ModeQuiet {
		r.wg.Add(1)
		go r.loop(tick)
	}
	return r
}

// SetStatus sets the heartbeat message (reporter:status).
func (r *Reporter) SetStatus(msg string) { r.status.Store(msg) }

func (r *Reporter) loop(tick time.Duration) {
	defer r.wg.Done()
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
			r.mu.Lock()
			if r.mode == ModeProgress {
				r.progressLocked(false)
			} else {
				r.flushLocked()
				r.heartbeatLocked()
			}
			r.mu.Unlock()
		}
	}
}

// flushLocked writes the deltas since the last flush as reporter lines.
func (r *Reporter) flushLocked() {
	var b strings.Builder
	for i, n := range r.set.names {
		v := r.set.vals[i].Load()
		if d := v - r.reported[i]; d != 0 {
			fmt.Fprintf(&b, "reporter:counter:%s,%s,%d\n", r.set.group, n, d)
			r.reported[i] = v
		}
	}
	if b.Len() > 0 {
		io.WriteString(r.w, b.String())
	}
}

func (r *Reporter) heartbeatLocked() {
	msg := r.status.Load().(string)
	if msg == "" {
		msg = r.summary()
	}
	fmt.Fprintf(r.w, "reporter:status:%s\n", oneLine(msg))
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}

func (r *Reporter) summary() string {
	el := r.now().Sub(r.start).Seconds()
	if el <= 0 {
		el = 1e-9
	}
	var parts []string
	if r.prog.Records != "" {
		n := r.set.Get(r.prog.Records)
		parts = append(parts, fmt.Sprintf("%d %s (%.0f/s)", n, r.prog.Records, float64(n)/el))
	}
	if r.prog.Bytes != "" {
		n := r.set.Get(r.prog.Bytes)
		parts = append(parts, fmt.Sprintf("%s (%s/s)", HumanBytes(n), HumanBytes(int64(float64(n)/el))))
	}
	if r.prog.Errors != "" {
		parts = append(parts, fmt.Sprintf("%d %s", r.set.Get(r.prog.Errors), r.prog.Errors))
	}
	parts = append(parts, fmt.Sprintf("%.1fs", el))
	return r.set.group + ": " + strings.Join(parts, ", ")
}

func (r *Reporter) progressLocked(final bool) {
	line := r.summary()
	if final {
		fmt.Fprintf(r.w, "\r\x1b[K%s\n", line)
		r.lineOpen = false
		return
	}
	fmt.Fprintf(r.w, "\r\x1b[K%s", line)
	r.lineOpen = true
}

// Printf writes one whole line to stderr (an error or a warning) without
// tearing a live progress line.
func (r *Reporter) Printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lineOpen {
		io.WriteString(r.w, "\r\x1b[K")
		r.lineOpen = false
	}
	msg := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	io.WriteString(r.w, msg)
}

// Stop ends periodic reporting and writes the final counters (reporter
// mode) or the one-line summary (progress mode).
func (r *Reporter) Stop() {
	if r.mode != ModeQuiet {
		close(r.done)
		r.wg.Wait()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.mode {
	case ModeReporter:
		r.flushLocked()
	case ModeProgress:
		r.progressLocked(true)
	}
}

// HumanBytes formats n with binary units.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// ParseReporterLines sums reporter:counter lines from Hadoop-streaming stderr
// text (for tests and for merging task outputs): group,name -> total.
func ParseReporterLines(text string) map[string]int64 {
	out := map[string]int64{}
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, "reporter:counter:")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, ',')
		if i < 0 {
			continue
		}
		var n int64
		if _, err := fmt.Sscan(rest[i+1:], &n); err != nil {
			continue
		}
		out[rest[:i]] += n
	}
	return out
}

// SortedKeys is a helper for stable summaries.
func SortedKeys(m map[string]int64) []string {
	k := make([]string, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}
