package mergejoin

import (
	"bytes"
	"context"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/s3pipe/s3pipe/lib/tsv"
)

func mapSide(t testing.TB, tag string, listing []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tsv.NewWriter(&b)
	if err := Map(context.Background(), tsv.NewReader(bytes.NewReader(listing)), tag, w, NewCounters()); err != nil {
		t.Fatalf("map %s: %v", tag, err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// shuffle is a local Hadoop shuffle: lines go to partitions by a hash of
// the first field (KeyFieldBasedPartitioner -k1,1), and each partition is
// sorted byte-wise, whole line (LC_ALL=C sort). Mapper outputs are
// concatenated in a random order first, as Hadoop merges them.
func shuffle(rng *rand.Rand, parts int, mapped ...[]byte) [][]byte {
	var lines []string
	for _, m := range mapped {
		lines = append(lines, strings.SplitAfter(string(m), "\n")...)
	}
	rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	out := make([][]string, parts)
	for _, l := range lines {
		if l == "" {
			continue
		}
		h := fnv.New32a()
		h.Write([]byte(l[:strings.IndexByte(l, '\t')]))
		p := int(h.Sum32() % uint32(parts))
		out[p] = append(out[p], l)
	}
	res := make([][]byte, parts)
	for i, p := range out {
		sort.Strings(p) // byte-wise, like LC_ALL=C sort
		res[i] = []byte(strings.Join(p, ""))
	}
	return res
}

func reduce(t testing.TB, rule Rule, in []byte) (result, error) {
	t.Helper()
	var cb, rb, eb bytes.Buffer
	cw, rw, ew := tsv.NewWriter(&cb), tsv.NewWriter(&rb), tsv.NewWriter(&eb)
	set := NewCounters()
	j := New(set, Options{Rule: rule, Copy: cw, Report: rw, Extra: ew})
	err := j.Reduce(context.Background(), tsv.NewReader(bytes.NewReader(in)))
	for _, w := range []*tsv.Writer{cw, rw, ew} {
		if ferr := w.Flush(); ferr != nil {
			t.Fatal(ferr)
		}
	}
	return result{cb.String(), rb.String(), eb.String(), set.Snapshot()}, err
}

// TestReduceMatchesJoin runs random listings through map → local shuffle →
// reduce. With one partition the outputs equal the pipe mode's byte for
// byte (hex keys keep raw order); with several, each partition is in key
// order and their union equals the pipe mode's output as a set of lines.
func TestReduceMatchesJoin(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		rng := rand.New(rand.NewPCG(seed, 11))
		src, dst := randomListings(rng, 80, seed%2 == 0)
		sb, db := encode(t, src...), encode(t, dst...)
		want, err := join(t, ETagSize, sb, db)
		if err != nil {
			t.Fatal(err)
		}
		mapped := [][]byte{mapSide(t, TagSrc, sb), mapSide(t, TagDst, db)}
		for _, parts := range []int{1, 3} {
			var got result
			for _, p := range shuffle(rng, parts, mapped...) {
				r, err := reduce(t, ETagSize, p)
				if err != nil {
					t.Fatalf("seed %d: reduce: %v", seed, err)
				}
				got.copy += r.copy
				got.report += r.report
				got.extra += r.extra
				if parts == 1 {
					for k, v := range want.counts {
						if k != CounterMapped && r.counts[k] != v {
							t.Errorf("seed %d: counter %s = %d, pipe mode %d", seed, k, r.counts[k], v)
						}
					}
				}
			}
			if parts > 1 {
				got.copy, got.report, got.extra = sortLines(got.copy), sortLines(got.report), sortLines(got.extra)
				want := result{copy: sortLines(want.copy), report: sortLines(want.report), extra: sortLines(want.extra)}
				if got.copy != want.copy || got.report != want.report || got.extra != want.extra {
					t.Errorf("seed %d, %d partitions: reducer output differs from pipe mode (as sets)", seed, parts)
				}
				continue
			}
			if got.copy != want.copy || got.report != want.report || got.extra != want.extra {
				t.Errorf("seed %d: reducer output differs from pipe mode\ncopy:\n%q\nwant:\n%q", seed, got.copy, want.copy)
			}
		}
	}
}

func sortLines(s string) string {
	l := strings.SplitAfter(s, "\n")
	slices.Sort(l)
	return strings.Join(l, "")
}

func TestMapFormat(t *testing.T) {
	got := string(mapSide(t, TagDst, encode(t, obj("a\tb", "e", 1))))
	want := "610962\tdst\ta\\tb\te\t1\t2024-03-17 12:00:00\tSTANDARD\t\\N\t\\N\tfalse\tb\n"
	if got != want {
		t.Errorf("mapped line = %q, want %q", got, want)
	}
}

func TestReduceErrors(t *testing.T) {
	rec := "\te\t1\t2024-01-01 00:00:00\t\\N\t\\N\t\\N\tfalse\tb\n"
	tests := []struct{ name, in, want string }{
		{"not grouped", "62\tsrc\tb" + rec + "61\tdst\ta" + rec, `line 2, column 1: reducer input is not grouped by key`},
		{"bad tag", "61\tsrc\ta" + rec + "61\tx\ta" + rec, `line 2, column 2: side tag "x"`},
		{"bad hex", "6z\tsrc\ta" + rec, `line 1, column 1: shuffle key "6z" is not lower-case hex`},
		{"key mismatch", "62\tsrc\ta" + rec, `line 1, column 1: shuffle key "62" does not match the record's key "a"`},
		{"duplicate", "61\tsrc\ta" + rec + "61\tsrc\ta" + rec, `line 2, column 3: source key "a" is a duplicate of line 1`},
		{"columns", "61\tsrc\n", `line 1: wrong number of columns: got 2, want 11`},
		{"record column", "61\tsrc\ta\te\tx\t2024-01-01 00:00:00\t\\N\t\\N\t\\N\tfalse\tb\n", `line 1, column 5: size`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reduce(t, ETagSize, []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
