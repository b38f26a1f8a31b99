package mergejoin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

var t0 = time.Date(2024, 3, 17, 12, 0, 0, 0, time.UTC)

// obj is a plain (not version-aware) object record.
func obj(key, etag string, size int64) record.Object {
	return record.Object{Key: key, ETag: etag, Size: size, MTime: t0, StorageClass: "STANDARD", Bucket: "b"}
}

// ver is a version-aware record.
func ver(key, etag string, size int64, id string, latest, marker bool) record.Object {
	o := obj(key, etag, size)
	o.VersionID = id
	o.IsLatest = record.BoolFalse
	if latest {
		o.IsLatest = record.BoolTrue
	}
	o.DeleteMarker = marker
	if marker {
		o.ETag, o.Size = "", 0
	}
	return o
}

func encode(t testing.TB, objs ...record.Object) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tsv.NewWriter(&b)
	for i := range objs {
		if err := objs[i].Write(w); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// result is what one join wrote.
type result struct {
	copy, report, extra string
	counts              map[string]int64
}

func join(t testing.TB, rule Rule, src, dst []byte) (result, error) {
	t.Helper()
	var cb, rb, eb bytes.Buffer
	cw, rw, ew := tsv.NewWriter(&cb), tsv.NewWriter(&rb), tsv.NewWriter(&eb)
	set := NewCounters()
	j := New(set, Options{Rule: rule, Copy: cw, Report: rw, Extra: ew})
	sr, dr := tsv.NewReader(bytes.NewReader(src)), tsv.NewReader(bytes.NewReader(dst))
	sr.Name, dr.Name = "stdin", "dst.tsv"
	err := j.Join(context.Background(), sr, dr)
	for _, w := range []*tsv.Writer{cw, rw, ew} {
		if ferr := w.Flush(); ferr != nil {
			t.Fatal(ferr)
		}
	}
	return result{cb.String(), rb.String(), eb.String(), set.Snapshot()}, err
}

func keysOf(t testing.TB, out string) []string {
	t.Helper()
	var keys []string
	r := tsv.NewReader(strings.NewReader(out))
	for {
		f, err := r.Read()
		if err != nil {
			break
		}
		keys = append(keys, string(f[0]))
	}
	return keys
}

func TestJoin(t *testing.T) {
	sameAs := func(o record.Object, key string) record.Object { o.Key = key; return o }
	ff := obj("ff", "e-ff", 300)
	tests := []struct {
		name       string
		rule       Rule
		src, dst   []record.Object
		wantCopy   []string
		wantExtra  []string
		wantStates []string // key=state[:fields] per report row
	}{
		{
			// Campanile's example: ff was copied to fe and fff in the
			// source; the destination still holds the old listing.
			name:       "campanile ff copied to fe and fff",
			src:        []record.Object{obj("a", "e-a", 1), sameAs(ff, "fe"), ff, sameAs(ff, "fff"), obj("g", "e-g", 7)},
			dst:        []record.Object{obj("a", "e-a", 1), ff, obj("g", "e-g", 7)},
			wantCopy:   []string{"fe", "fff"},
			wantStates: []string{"a=same", "fe=missing", "ff=same", "fff=missing", "g=same"},
		},
		{name: "both empty"},
		{
			name:       "empty destination: all missing",
			src:        []record.Object{obj("a", "e", 1), obj("b", "e", 2)},
			wantCopy:   []string{"a", "b"},
			wantStates: []string{"a=missing", "b=missing"},
		},
		{
			name:       "empty source: all extra",
			dst:        []record.Object{obj("a", "e", 1), obj("b", "e", 2)},
			wantExtra:  []string{"a", "b"},
			wantStates: []string{"a=extra", "b=extra"},
		},
		{
			name:       "all same",
			src:        []record.Object{obj("a", "e", 1), obj("b", "e", 2)},
			dst:        []record.Object{obj("a", "e", 1), obj("b", "e", 2)},
			wantStates: []string{"a=same", "b=same"},
		},
		{
			name:       "changed size same etag",
			src:        []record.Object{obj("a", "e", 2)},
			dst:        []record.Object{obj("a", "e", 1)},
			wantCopy:   []string{"a"},
			wantStates: []string{"a=changed:size"},
		},
		{
			name:       "changed etag and size",
			src:        []record.Object{obj("a", "e1", 2)},
			dst:        []record.Object{obj("a", "e2", 1)},
			wantCopy:   []string{"a"},
			wantStates: []string{"a=changed:etag,size"},
		},
		{
			name:       "empty etags never prove equality",
			src:        []record.Object{obj("a", "", 1)},
			dst:        []record.Object{obj("a", "", 1)},
			wantCopy:   []string{"a"},
			wantStates: []string{"a=changed:etag"},
		},
		{
			name:       "size rule ignores etag",
			rule:       Size,
			src:        []record.Object{obj("a", "e1", 1), obj("b", "e", 2)},
			dst:        []record.Object{obj("a", "e2", 1), obj("b", "e", 3)},
			wantCopy:   []string{"b"},
			wantStates: []string{"a=same", "b=changed:size"},
		},
		{
			name:       "etag rule ignores size",
			rule:       ETag,
			src:        []record.Object{obj("a", "e1", 1), obj("b", "e", 2)},
			dst:        []record.Object{obj("a", "e2", 1), obj("b", "e", 3)},
			wantCopy:   []string{"a"},
			wantStates: []string{"a=changed:etag", "b=same"},
		},
		{
			name: "size-mtime copies newer sources only",
			rule: SizeMTime,
			src: []record.Object{obj("a", "x", 1), withTime(obj("b", "x", 1), t0.Add(time.Second)),
				withTime(obj("c", "x", 1), t0.Add(-time.Hour)), obj("d", "x", 5), withTime(obj("e", "x", 1), time.Time{})},
			dst:        []record.Object{obj("a", "y", 1), obj("b", "y", 1), obj("c", "y", 1), obj("d", "y", 1), obj("e", "y", 1)},
			wantCopy:   []string{"b", "d", "e"},
			wantStates: []string{"a=same", "b=changed:mtime", "c=same", "d=changed:size", "e=changed:mtime"},
		},
		{
			// Raw byte order: "a\tb" (0x09) < "a0" (0x30) < "a\\b" (0x5c)
			// < "a\\N" < "é"; escaped, `a\tb` would sort after `a0`.
			name:       "keys that need escaping, in raw order",
			src:        []record.Object{obj("a\tb", "e", 1), obj("a\nb", "e", 1), obj("a0", "e", 1), obj(`a\N`, "e", 1), obj(`a\b`, "e", 1), obj("é\r", "e", 1)},
			dst:        []record.Object{obj("a\tb", "e", 1), obj("a0", "e", 2), obj(`a\N`, "e", 1), obj("b", "e", 1), obj("é\r", "e", 1)},
			wantCopy:   []string{"a\nb", "a0", `a\b`},
			wantExtra:  []string{"b"},
			wantStates: []string{"a\tb=same", "a\nb=missing", "a0=changed:size", `a\N=same`, `a\b=missing`, "b=extra", "é\r=same"},
		},
		{
			name: "versions: latest only",
			src: []record.Object{
				ver("a", "e2", 2, "v2", true, false), ver("a", "e1", 1, "v1", false, false), // changed
				ver("b", "", 0, "v3", true, true), ver("b", "e", 1, "v2", false, false), // deleted at source: not copied
				ver("c", "e", 1, "v1", false, false), ver("c", "e", 1, "v9", true, false), // latest after an old one: accepted
				ver("d", "e", 1, "v1", true, false), // missing: the destination's latest is a delete marker
				ver("e", "e", 1, "v1", true, false), // same
			},
			dst: []record.Object{
				ver("a", "e1", 1, "w1", true, false),
				ver("b", "e", 1, "w1", true, false), // extra: the source deleted it
				ver("c", "e", 1, "w1", true, false),
				ver("d", "", 0, "w2", true, true), ver("d", "e", 1, "w1", false, false),
				ver("e", "e", 1, "w1", true, false),
			},
			wantCopy:   []string{"a", "d"},
			wantExtra:  []string{"b"},
			wantStates: []string{"a=changed:etag,size", "b=extra", "c=same", "d=missing", "e=same"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := join(t, tc.rule, encode(t, tc.src...), encode(t, tc.dst...))
			if err != nil {
				t.Fatal(err)
			}
			if k := keysOf(t, got.copy); !slices.Equal(k, tc.wantCopy) {
				t.Errorf("copy keys = %q, want %q", k, tc.wantCopy)
			}
			if k := keysOf(t, got.extra); !slices.Equal(k, tc.wantExtra) {
				t.Errorf("extra keys = %q, want %q", k, tc.wantExtra)
			}
			if s := states(t, got.report); !slices.Equal(s, tc.wantStates) {
				t.Errorf("report = %q, want %q", s, tc.wantStates)
			}
			// Emitted records are the input lines, byte for byte.
			srcLines := string(encode(t, tc.src...))
			for _, l := range strings.SplitAfter(got.copy, "\n") {
				if !strings.Contains(srcLines, l) {
					t.Errorf("emitted line %q is not a source line", l)
				}
			}
			// Every source record is accounted for.
			c := got.counts
			if c[CounterSrcRecords] != int64(len(tc.src)) || c[CounterDstRecords] != int64(len(tc.dst)) {
				t.Errorf("record counters %v, want %d/%d", c, len(tc.src), len(tc.dst))
			}
			if n := c[CounterMissing] + c[CounterChanged] + c[CounterSame] + c[CounterSrcOldVersions] + c[CounterSrcDeleteMarkers]; n != int64(len(tc.src)) {
				t.Errorf("counters %v do not add up to %d source records", c, len(tc.src))
			}
			if n := c[CounterExtra] + c[CounterChanged] + c[CounterSame] + c[CounterDstOldVersions] + c[CounterDstDeleteMarkers]; n != int64(len(tc.dst)) {
				t.Errorf("counters %v do not add up to %d destination records", c, len(tc.dst))
			}
		})
	}
}

func withTime(o record.Object, tm time.Time) record.Object { o.MTime = tm; return o }

// states renders report rows as key=state[:fields] and checks each row's
// shape.
func states(t testing.TB, report string) []string {
	t.Helper()
	var out []string
	r := tsv.NewReader(strings.NewReader(report))
	for {
		f, err := r.ReadN(len(ReportColumns))
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("report: %v", err)
			}
			return out
		}
		s := string(f[0]) + "=" + string(f[1])
		if f[2] != nil {
			s += ":" + string(f[2])
		}
		switch string(f[1]) {
		case StateMissing:
			if f[4] != nil || f[6] != nil || f[3] == nil {
				t.Errorf("missing row %q: want NULL destination columns", f)
			}
		case StateExtra:
			if f[3] != nil || f[5] != nil || f[4] == nil {
				t.Errorf("extra row %q: want NULL source columns", f)
			}
		}
		out = append(out, s)
	}
}

func TestJoinErrors(t *testing.T) {
	line := func(s string) []byte { return []byte(s + "\n") }
	rec := func(key string) string { return key + "\te\t1\t2024-01-01 00:00:00\t\\N\t\\N\t\\N\tfalse\tb" }
	vrec := func(key, latest string) string {
		return key + "\te\t1\t2024-01-01 00:00:00\t\\N\tv\t" + latest + "\tfalse\tb"
	}
	tests := []struct {
		name     string
		src, dst []byte
		want     string
	}{
		{"unsorted source", line(rec("b") + "\n" + rec("a")), nil,
			`stdin: line 2, column 1: source key "a" sorts before "b" on line 1: the source must be sorted by key in raw byte order (as S3 lists keys)`},
		{"escaped order is not raw order", line(rec(`a0`) + "\n" + rec(`a\tb`)), nil,
			`stdin: line 2, column 1: source key "a\tb" sorts before "a0" on line 1`},
		{"duplicate destination key", nil, line(rec("a") + "\n" + rec("b") + "\n" + rec("b")),
			`dst.tsv: line 3, column 1: destination key "b" is a duplicate of line 2: a listing without versions has one record per key`},
		{"two latest versions", line(vrec("a", "true") + "\n" + vrec("a", "false") + "\n" + vrec("a", "true")), nil,
			`stdin: line 3, column 1: source key "a" has a second latest version (line 1 has one)`},
		{"mixed listing", line(vrec("a", "true") + "\n" + rec("b")), nil,
			`stdin: line 2, column 7: source mixes records with and without is_latest`},
		{"columns", line("a\tb"), nil, `stdin: line 1: wrong number of columns: got 2, want 9`},
		{"size", line(strings.Replace(rec("a"), "\t1\t", "\t-1\t", 1)), nil, `stdin: line 1, column 3: size: want a non-negative integer, got "-1"`},
		{"mtime", nil, line(strings.Replace(rec("a"), "2024-01-01 00:00:00", "2024-01-01T00:00:00", 1)), `dst.tsv: line 1, column 4: mtime: want YYYY-MM-DD HH:MM:SS`},
		{"null key", line(rec(`\N`)), nil, `stdin: line 1, column 1: key: must not be NULL`},
		{"bad delete_marker", line(strings.Replace(rec("a"), "false", "no", 1)), nil, `column 8: delete_marker: want true or false, got "no"`},
		{"bad escape", line(rec(`a\x`)), nil, `stdin: line 1, column 1: bad escape`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := join(t, ETagSize, tc.src, tc.dst)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			var pe *tsv.ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %v is not a *tsv.ParseError (exit 2)", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n %v\nwant it to contain\n %s", err, tc.want)
			}
		})
	}
	var oe *OrderError
	_, err := join(t, ETagSize, line(rec("b")+"\n"+rec("a")), nil)
	if !errors.As(err, &oe) || !errors.Is(err, ErrOrder) || oe.Key != "a" || oe.PrevKey != "b" || oe.PrevLine != 1 {
		t.Errorf("order error %#v: want keys and previous line as fields", oe)
	}
}

// TestJoinCancel checks the loop stops on a cancelled context.
func TestJoinCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	j := New(NewCounters(), Options{})
	src := encode(t, obj("a", "e", 1))
	err := j.Join(ctx, tsv.NewReader(bytes.NewReader(src)), tsv.NewReader(bytes.NewReader(nil)))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// randomListings builds a source and a destination listing with shared,
// changed, missing and extra keys; versioned ones carry old versions and
// delete markers. Keys are drawn from a small alphabet with bytes that
// sort differently escaped and raw.
func randomListings(rng *rand.Rand, n int, versioned bool) (src, dst []record.Object) {
	alphabet := []string{"a", "0", "\t", "\\", "\n", "N", "é", "\x00", "/"}
	seen := map[string]bool{}
	var keys []string
	for len(keys) < n {
		var b strings.Builder
		for l := 1 + rng.IntN(4); l > 0; l-- {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		if k := b.String(); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	sort.Strings(keys) // Go string order is raw byte order
	gen := func(key string, etag string, size int64) []record.Object {
		if !versioned {
			return []record.Object{obj(key, etag, size)}
		}
		var vs []record.Object
		latest := ver(key, etag, size, "v9", true, rng.IntN(6) == 0)
		vs = append(vs, latest)
		for i := rng.IntN(3); i > 0; i-- {
			vs = append(vs, ver(key, "old", int64(i), fmt.Sprint("v", i), false, rng.IntN(3) == 0))
		}
		rng.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
		return vs
	}
	for _, k := range keys {
		etag, size := fmt.Sprintf("e%d", rng.IntN(3)), int64(rng.IntN(3))
		switch rng.IntN(4) {
		case 0: // source only
			src = append(src, gen(k, etag, size)...)
		case 1: // destination only
			dst = append(dst, gen(k, etag, size)...)
		case 2: // both, maybe different
			src = append(src, gen(k, etag, size)...)
			dst = append(dst, gen(k, fmt.Sprintf("e%d", rng.IntN(3)), int64(rng.IntN(3)))...)
		default: // both, same
			src = append(src, gen(k, etag, size)...)
			dst = append(dst, gen(k, etag, size)...)
		}
	}
	return src, dst
}

// naive is the reference: the same comparison with maps and no order.
func naive(t testing.TB, src, dst []record.Object) (copyKeys, extraKeys []string) {
	live := func(objs []record.Object) map[string]record.Object {
		m := map[string]record.Object{}
		for _, o := range objs {
			if o.IsLatest != record.BoolFalse && !o.DeleteMarker {
				m[o.Key] = o
			}
		}
		return m
	}
	s, d := live(src), live(dst)
	for k, o := range s {
		if do, ok := d[k]; !ok || do.ETag != o.ETag || do.Size != o.Size || o.ETag == "" {
			copyKeys = append(copyKeys, k)
		}
	}
	for k := range d {
		if _, ok := s[k]; !ok {
			extraKeys = append(extraKeys, k)
		}
	}
	sort.Strings(copyKeys)
	sort.Strings(extraKeys)
	return copyKeys, extraKeys
}

func TestJoinMatchesNaive(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		versioned := seed%2 == 0
		rng := rand.New(rand.NewPCG(seed, 7))
		src, dst := randomListings(rng, 60, versioned)
		got, err := join(t, ETagSize, encode(t, src...), encode(t, dst...))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		wantCopy, wantExtra := naive(t, src, dst)
		if k := keysOf(t, got.copy); !slices.Equal(k, wantCopy) {
			t.Errorf("seed %d: copy keys = %q, want %q", seed, k, wantCopy)
		}
		if k := keysOf(t, got.extra); !slices.Equal(k, wantExtra) {
			t.Errorf("seed %d: extra keys = %q, want %q", seed, k, wantExtra)
		}
	}
}
