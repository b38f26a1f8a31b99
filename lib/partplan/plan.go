// Package partplan owns partition planning and coverage checking: it writes
// key ranges that tile a bucket prefix exactly once, balanced by estimated key
// count without listing everything, and proves (or refutes) that a part file
// tiles its prefix.
//
// Planning first maps the keyspace's structure with delimiter ("/")
// listings: objects directly under the prefix and child prefixes small
// enough for one probe become exactly known keys, children with structure of
// their own are descended into (up to 3 levels, within the probe budget), and
// each remaining big prefix is sampled on its own with ListObjectsV2
// StartAfter probes (a small MaxKeys each). Every probe gives an exact run of
// consecutive keys, so its key density; the unknown gaps between runs are
// estimated from the densities of their neighbours, measured in a coordinate
// that maps a key to [0,1) by its characters after the common prefix of the
// sampled prefix's keys, each character a digit in the alphabet seen so far.
// Probes go where the estimated count is largest over all sampled prefixes,
// then boundaries are placed at estimated quantiles of the whole prefix. The
// tiling is exact by construction whatever the estimate: the ranges are
// (”, b1], (b1, b2], …, (bn, end) for strictly increasing bi.
package partplan

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3pipe/s3pipe/lib/partfile"
	"golang.org/x/sync/errgroup"
)

// Options tune planning.
type Options struct {
	Parts       int   // ranges wanted (about; fewer when there are fewer keys)
	ProbeKeys   int32 // MaxKeys per probe (default 100)
	Probes      int   // probe budget (default 6×Parts+16)
	Concurrency int   // probes in flight (default 8)
}

// Stats describe a planning run.
type Stats struct {
	Probes     int     // ListObjectsV2 requests made
	KeysSeen   int     // distinct keys the probes returned
	Estimated  float64 // estimated keys under the prefix
	Exact      bool    // every key was seen: the ranges are exactly balanced
	Boundaries int     // ranges - 1
}

// maxDigits bounds the characters a coordinate looks at; float64 keeps about
// 52 bits, so more would rarely add anything.
const maxDigits = 32

// run is an exact stretch of the keyspace: keys holds every key in (lo, hi],
// where hi is the last key, or the end of the keyspace when end is set.
type run struct {
	lo   string
	keys []string
	end  bool
}

func (r *run) hi() string { return r.keys[len(r.keys)-1] }

// covers reports whether s is inside (lo, hi] (or (lo, end)).
func (r *run) reaches(s string) bool {
	return r.end || (len(r.keys) > 0 && s <= r.hi())
}

type planner struct {
	m      *multi
	prefix string

	runs []*run // sorted by lo, disjoint, not touching

	base  string  // prefix + common prefix of all keys
	alpha []rune  // characters seen after base, sorted
	radix float64 // len(alpha)+1: digit 0 is "end of key"
}

// Plan returns range units that tile every key under prefix exactly once.
func Plan(ctx context.Context, c s3.ListObjectsV2APIClient, bucket, prefix string, opt Options) ([]partfile.Unit, Stats, error) {
	if opt.Parts < 1 {
		opt.Parts = 1
	}
	if opt.ProbeKeys <= 0 {
		opt.ProbeKeys = 100
	}
	if opt.Probes <= 0 {
		opt.Probes = 6*opt.Parts + 16
	}
	if opt.Concurrency < 1 {
		opt.Concurrency = 8
	}
	m := &multi{c: c, bucket: bucket, prefix: prefix, opt: opt}
	bounds, st, err := m.plan(ctx)
	if err != nil {
		return nil, st, err
	}
	units := make([]partfile.Unit, 0, len(bounds)+1)
	after := ""
	for _, b := range bounds {
		units = append(units, partfile.Unit{Kind: partfile.Range, Prefix: prefix, After: after, Until: b, HasUntil: true})
		after = b
	}
	units = append(units, partfile.Unit{Kind: partfile.Range, Prefix: prefix, After: after})
	st.Boundaries = len(bounds)
	return units, st, nil
}

// multi plans over the disjoint pieces of the keyspace that delimiter
// listings reveal: keys seen exactly (objects directly under a prefix, and
// prefixes small enough for one probe) and one planner per prefix too big
// for one probe. Probes are then spent where the estimated unseen keys are,
// across all planners, and boundaries placed at global quantiles. On a
// skewed keyspace (date-prefixed keys whose days differ a hundredfold) this
// keeps each day's density estimate separate, which one coordinate over the
// whole prefix cannot.
type multi struct {
	c      s3.ListObjectsV2APIClient
	bucket string
	prefix string
	opt    Options

	mu     sync.Mutex
	probes int

	exact []string   // keys known exactly, outside every planner
	subs  []*planner // disjoint prefixes sampled with StartAfter probes
}

// Discovery descends through at most this many delimiter levels, and only
// into prefixes whose first probe shows keys with a further "/".
const (
	maxDepth   = 3
	listMax    = 1000 // MaxKeys of a delimiter listing (S3's page size)
	delimiter  = "/"
	childShare = 0.8 // at most this share of the probe budget on probing children
)

func (m *multi) newPlanner(prefix string) *planner { return &planner{m: m, prefix: prefix} }

func (m *multi) plan(ctx context.Context) ([]string, Stats, error) {
	if m.opt.Parts == 1 {
		p := m.newPlanner(m.prefix)
		if _, err := p.probe(ctx, ""); err != nil {
			return nil, Stats{}, err
		}
		m.subs = []*planner{p}
		p.coords()
		return nil, m.stats(), nil
	}
	if err := m.discover(ctx, m.prefix, nil, 0); err != nil {
		return nil, Stats{}, err
	}
	for _, p := range m.subs {
		if err := p.narrow(ctx); err != nil {
			return nil, Stats{}, err
		}
	}
	for m.probes < m.opt.Probes && m.open() {
		for _, p := range m.subs {
			p.coords()
		}
		points := m.choose(min(m.opt.Concurrency, m.opt.Probes-m.probes))
		if len(points) == 0 {
			break
		}
		g, gctx := errgroup.WithContext(ctx)
		for _, pt := range points {
			g.Go(func() error {
				_, err := pt.p.probe(gctx, pt.s)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, Stats{}, err
		}
	}
	for _, p := range m.subs {
		p.coords()
	}
	return m.bounds(), m.stats(), nil
}

// discover maps prefix: with one delimiter listing it finds the objects
// directly under it (known exactly) and its child prefixes, probes each
// child once (small ones are then known exactly) and descends into big
// children that have structure of their own. A prefix that is too wide for
// one listing page, too deep, or has more children than the budget allows
// becomes one planner. first is prefix's planner when its first probe was
// already made.
func (m *multi) discover(ctx context.Context, prefix string, first *planner, depth int) error {
	leaf := func() error {
		if first == nil {
			first = m.newPlanner(prefix)
			if _, err := first.probe(ctx, ""); err != nil {
				return err
			}
		}
		if r := first.runs[0]; r.end {
			m.exact = append(m.exact, r.keys...)
		} else {
			m.subs = append(m.subs, first)
		}
		return nil
	}
	if depth >= maxDepth || m.probes+2 > m.opt.Probes {
		return leaf()
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(m.bucket), EncodingType: types.EncodingTypeUrl,
		MaxKeys: aws.Int32(listMax), Delimiter: aws.String(delimiter)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	out, err := m.c.ListObjectsV2(ctx, in)
	m.mu.Lock()
	m.probes++
	m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("list s3://%s/%s with delimiter %q: %w", m.bucket, prefix, delimiter, err)
	}
	if aws.ToBool(out.IsTruncated) {
		return leaf() // wide: sample it as one keyspace
	}
	enc := out.EncodingType == types.EncodingTypeUrl
	var keys, children []string
	for _, o := range out.Contents {
		k, err := decodeKey(aws.ToString(o.Key), enc)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", m.bucket, prefix, err)
		}
		keys = append(keys, k)
	}
	for _, cp := range out.CommonPrefixes {
		c, err := decodeKey(aws.ToString(cp.Prefix), enc)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", m.bucket, prefix, err)
		}
		if !strings.HasPrefix(c, prefix) || c == prefix {
			return fmt.Errorf("list s3://%s/%s: common prefix %q is not below the prefix", m.bucket, prefix, c)
		}
		children = append(children, c)
	}
	if len(children) == 0 || float64(m.probes+len(children)) > childShare*float64(m.opt.Probes) {
		if len(children) == 0 {
			m.exact = append(m.exact, keys...) // the listing was complete
			return nil
		}
		return leaf()
	}
	m.exact = append(m.exact, keys...)
	subs := make([]*planner, len(children))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.opt.Concurrency)
	for i, c := range children {
		subs[i] = m.newPlanner(c)
		g.Go(func() error {
			_, err := subs[i].probe(gctx, "")
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, p := range subs {
		r := p.runs[0]
		if r.end || !hasDelimiter(r.keys, p.prefix) {
			if err := m.discover(ctx, p.prefix, p, maxDepth); err != nil { // exact or leaf
				return err
			}
			continue
		}
		if err := m.discover(ctx, p.prefix, p, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// hasDelimiter reports whether some key has a delimiter after prefix.
func hasDelimiter(keys []string, prefix string) bool {
	for _, k := range keys {
		if strings.Contains(k[len(prefix):], delimiter) {
			return true
		}
	}
	return false
}

func decodeKey(k string, enc bool) (string, error) {
	if !enc {
		return k, nil
	}
	d, err := url.QueryUnescape(k)
	if err != nil {
		return "", fmt.Errorf("decode key %q: %w", k, err)
	}
	return d, nil
}

func (m *multi) open() bool {
	for _, p := range m.subs {
		if p.open() {
			return true
		}
	}
	return false
}

// narrow finds the common prefix of all of p's keys: the first key's,
// shortened until no key sorts after base+U+10FFFF (then every key starts
// with base). It makes the coordinates spend their precision where keys
// differ.
func (p *planner) narrow(ctx context.Context) error {
	p.base = p.prefix
	first := p.runs[0]
	common := commonPrefix(first.keys[0], first.hi())
	for len(common) > len(p.prefix) {
		if p.m.probes >= p.m.opt.Probes {
			return nil // unconfirmed: keep the prefix as the base
		}
		after, err := p.probe(ctx, common+string(utf8.MaxRune))
		if err != nil {
			return err
		}
		if len(after) == 0 {
			break
		}
		common = commonPrefix(common, after[0])
	}
	if strings.HasPrefix(common, p.prefix) {
		p.base = common
	}
	return nil
}

func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	// Never cut a UTF-8 sequence: probe strings are built from whole runes.
	for n > 0 && n < len(a) && !utf8.RuneStart(a[n]) {
		n--
	}
	return a[:n]
}

// probe lists up to ProbeKeys keys after s, records them as a run and
// returns them.
func (p *planner) probe(ctx context.Context, s string) ([]string, error) {
	m := p.m
	in := &s3.ListObjectsV2Input{Bucket: aws.String(m.bucket), EncodingType: types.EncodingTypeUrl,
		MaxKeys: aws.Int32(m.opt.ProbeKeys)}
	if p.prefix != "" {
		in.Prefix = aws.String(p.prefix)
	}
	if s != "" {
		in.StartAfter = aws.String(s)
	}
	out, err := m.c.ListObjectsV2(ctx, in)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.probes++
	if err != nil {
		return nil, fmt.Errorf("probe s3://%s/%s after %q: %w", m.bucket, p.prefix, s, err)
	}
	r := &run{lo: s, end: !aws.ToBool(out.IsTruncated)}
	for _, o := range out.Contents {
		k := aws.ToString(o.Key)
		if out.EncodingType == types.EncodingTypeUrl {
			if k, err = url.QueryUnescape(k); err != nil {
				return nil, fmt.Errorf("probe s3://%s/%s: decode key %q: %w", m.bucket, p.prefix, aws.ToString(o.Key), err)
			}
		}
		if k <= s || len(r.keys) > 0 && k <= r.hi() {
			return nil, fmt.Errorf("probe s3://%s/%s after %q: server returned key %q out of order", m.bucket, p.prefix, s, k)
		}
		r.keys = append(r.keys, k)
	}
	if len(r.keys) == 0 && !r.end {
		return nil, fmt.Errorf("probe s3://%s/%s after %q: truncated listing without keys", m.bucket, p.prefix, s)
	}
	keys := slices.Clone(r.keys)
	p.insert(r)
	return keys, nil
}

// insert adds r and merges the runs it overlaps or touches.
func (p *planner) insert(r *run) {
	runs := append(p.runs, r)
	sort.Slice(runs, func(i, j int) bool { return runs[i].lo < runs[j].lo })
	out := runs[:1]
	for _, n := range runs[1:] {
		last := out[len(out)-1]
		if !last.reaches(n.lo) {
			out = append(out, n)
			continue
		}
		// n starts inside last: union their keys.
		keys := append(last.keys, n.keys...)
		slices.Sort(keys)
		last.keys = slices.Compact(keys)
		last.end = last.end || n.end
	}
	p.runs = out
}

// open reports whether some part of the keyspace is still unknown.
func (p *planner) open() bool {
	return !p.runs[len(p.runs)-1].end || len(p.runs) > 1
}

// coords rebuilds the alphabet from every key seen. (One alphabet per
// character position was tried: it collapses when the first probes see only
// a sliver of the keyspace, e.g. hex keys all starting "00".)
func (p *planner) coords() {
	set := map[rune]bool{}
	for _, r := range p.runs {
		for _, k := range r.keys {
			if !strings.HasPrefix(k, p.base) {
				continue
			}
			j := 0
			for _, c := range k[len(p.base):] {
				if j == maxDigits {
					break
				}
				set[c] = true
				j++
			}
		}
	}
	p.alpha = p.alpha[:0]
	for c := range set {
		p.alpha = append(p.alpha, c)
	}
	slices.Sort(p.alpha)
	p.radix = float64(len(p.alpha) + 1)
}

// pos maps s to [0,1] in key order (non-decreasing; 1 = after every key).
// Each character after base is a digit of radix len(alpha)+1; digit 0 is
// "end of key".
func (p *planner) pos(s string) float64 {
	if s < p.base {
		return 0
	}
	if !strings.HasPrefix(s, p.base) {
		return 1
	}
	x, scale := 0.0, 1.0
	for _, c := range s[len(p.base):] {
		if scale < 1e-17 {
			break
		}
		scale /= p.radix
		i := sort.Search(len(p.alpha), func(i int) bool { return p.alpha[i] >= c })
		d := float64(i) + 1
		if i == len(p.alpha) || p.alpha[i] != c {
			d = float64(i) + 0.5 // unseen: between its neighbours
		}
		x += d * scale
	}
	return x
}

// at is a key-order point near position x (a string of seen characters).
func (p *planner) at(x float64) string {
	var b strings.Builder
	b.WriteString(p.base)
	for scale := 1.0; scale >= 1e-17 && len(p.alpha) > 0; {
		scale /= p.radix
		x *= p.radix
		d := math.Floor(x)
		x -= d
		if d < 1 {
			break
		}
		b.WriteRune(p.alpha[min(int(d), len(p.alpha))-1])
	}
	return b.String()
}

// segment is a stretch of the keyspace in order: an exact run or the gap
// after one (unknown keys in (lo, hi]; hi "" = the end).
type segment struct {
	p      *planner
	run    *run
	lo, hi string
	loPos  float64
	hiPos  float64
	count  float64
}

// Densities are measured at the run's end next to the gap, over half its
// keys: a run that starts with a long empty stretch (before the first key)
// would otherwise dilute the estimate of a dense gap after it.
func (p *planner) leftDensity(r *run) float64 {
	m := max(1, len(r.keys)/2)
	return float64(m) / max(p.pos(r.keys[m-1])-p.pos(r.lo), 1e-15)
}

func (p *planner) rightDensity(r *run) float64 {
	n := len(r.keys)
	if n == 1 {
		return 1 / max(p.pos(r.keys[0])-p.pos(r.lo), 1e-15)
	}
	m := max(1, n/2)
	return float64(m) / max(p.pos(r.keys[n-1])-p.pos(r.keys[n-1-m]), 1e-15)
}

// segments lays out runs and estimated gaps.
func (p *planner) segments() []segment {
	var segs []segment
	for i, r := range p.runs {
		if len(r.keys) > 0 {
			segs = append(segs, segment{p: p, run: r, lo: r.lo, hi: r.hi(), count: float64(len(r.keys))})
		}
		if r.end {
			break
		}
		g := segment{p: p, lo: r.lo, loPos: p.pos(r.lo), hiPos: 1}
		var ds []float64
		if len(r.keys) > 0 {
			g.lo, g.loPos = r.hi(), p.pos(r.hi())
			ds = append(ds, p.rightDensity(r))
		}
		if i+1 < len(p.runs) {
			n := p.runs[i+1]
			g.hi, g.hiPos = n.lo, p.pos(n.lo)
			if len(n.keys) > 0 {
				ds = append(ds, p.leftDensity(n))
			}
		}
		d := 0.0
		for _, v := range ds {
			d += v / float64(len(ds))
		}
		// A gap holds at least one key or the probes would have met.
		g.count = max(1, d*max(g.hiPos-g.loPos, 0))
		segs = append(segs, g)
	}
	return segs
}

// point is a probe to make: StartAfter s in planner p.
type point struct {
	p *planner
	s string
}

// choose places n probes in the gaps of every planner, most to the gaps with
// the most estimated keys.
func (m *multi) choose(n int) []point {
	var gaps []segment
	for _, p := range m.subs {
		for _, s := range p.segments() {
			if s.run == nil {
				gaps = append(gaps, s)
			}
		}
	}
	if len(gaps) == 0 {
		return nil
	}
	given := make([]int, len(gaps))
	for range n {
		best := 0
		for i := range gaps {
			if gaps[i].count/float64(given[i]+1) > gaps[best].count/float64(given[best]+1) {
				best = i
			}
		}
		given[best]++
	}
	var points []point
	for i, g := range gaps {
		seen := map[string]bool{}
		for t := 1; t <= given[i]; t++ {
			// Half the probes evenly spaced, half at geometrically shrinking
			// distances from the known keys: when the gap's keys crowd near
			// one end (skewed key spaces, outliers stretching the
			// coordinates), even spacing needs many rounds to find them.
			f := float64(t) / float64(given[i]+1)
			if t%2 == 0 {
				f = math.Pow(0.25, float64(t/2))
			}
			s := g.p.at(g.loPos + (g.hiPos-g.loPos)*f)
			if s <= g.lo || (g.hi != "" && s >= g.hi) || seen[s] {
				// Coordinates too coarse here: continue the run instead,
				// which always learns the next keys.
				s = g.lo
			}
			if !seen[s] {
				seen[s] = true
				points = append(points, point{g.p, s})
			}
		}
	}
	return points
}

// segments lays out every known key and every planner's runs and gaps in
// key order. Planners cover disjoint prefixes, and a key known exactly is
// never under one of them, so ordering the pieces by their first key (or
// prefix) orders everything.
func (m *multi) segments() []segment {
	type piece struct {
		at  string
		key bool
		p   *planner
	}
	pieces := make([]piece, 0, len(m.exact)+len(m.subs))
	for _, k := range m.exact {
		pieces = append(pieces, piece{at: k, key: true})
	}
	for _, p := range m.subs {
		pieces = append(pieces, piece{at: p.prefix, p: p})
	}
	sort.Slice(pieces, func(i, j int) bool { return pieces[i].at < pieces[j].at })
	var segs []segment
	for _, pc := range pieces {
		if pc.key {
			segs = append(segs, segment{run: &run{keys: []string{pc.at}}, lo: pc.at, hi: pc.at, count: 1})
			continue
		}
		segs = append(segs, pc.p.segments()...)
	}
	return segs
}

// bounds places Parts-1 boundaries at estimated quantiles.
func (m *multi) bounds() []string {
	segs := m.segments()
	total := 0.0
	for _, s := range segs {
		total += s.count
	}
	var out []string
	acc := 0.0
	si := 0
	for j := 1; j < m.opt.Parts; j++ {
		target := total * float64(j) / float64(m.opt.Parts)
		for si < len(segs) && acc+segs[si].count < target {
			acc += segs[si].count
			si++
		}
		if si == len(segs) {
			break
		}
		s := segs[si]
		frac := (target - acc) / s.count
		var b string
		if s.run != nil {
			b = s.run.keys[min(len(s.run.keys)-1, max(0, int(math.Round(frac*float64(len(s.run.keys))))-1))]
		} else {
			b = s.p.at(s.loPos + (s.hiPos-s.loPos)*frac)
			if b <= s.lo || (s.hi != "" && b > s.hi) {
				b = s.lo
			}
		}
		if b == "" || len(out) > 0 && b <= out[len(out)-1] {
			continue
		}
		out = append(out, b)
	}
	return out
}

func (m *multi) stats() Stats {
	st := Stats{Probes: m.probes, Exact: true}
	for _, s := range m.segments() {
		st.Estimated += s.count
		if s.run != nil {
			st.KeysSeen += len(s.run.keys)
		}
	}
	for _, p := range m.subs {
		if len(p.runs) != 1 || !p.runs[0].end {
			st.Exact = false
		}
	}
	return st
}
