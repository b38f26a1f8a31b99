package lister

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/inventory"
	"github.com/s3pipe/s3pipe/lib/lister/listertest"
	"github.com/s3pipe/s3pipe/lib/partfile"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// campanileKeys are Campanile's fixtures: 00..ff plus 000/00.
func campanileKeys() []string {
	var keys []string
	for i := range 256 {
		keys = append(keys, fmt.Sprintf("%02x", i))
	}
	return append(keys, "000/00")
}

func parseUnits(t testing.TB, text string) []partfile.Unit {
	t.Helper()
	units, err := partfile.NewReader(tsv.NewReader(strings.NewReader(text))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return units
}

// run lists units and returns the keys of the output records, in order.
func run(t testing.TB, l *Lister, units []partfile.Unit, opt Options) ([]string, *counters.Set, error) {
	t.Helper()
	set := counters.New("s3list", CounterNames(l.Versions)...)
	var out bytes.Buffer
	err := l.Run(context.Background(), units, &out, set, opt)
	return outputKeys(t, &out), set, err
}

func outputKeys(t testing.TB, out io.Reader) []string {
	t.Helper()
	r := tsv.NewReader(out)
	var keys []string
	for {
		f, err := r.Read()
		if err == io.EOF {
			return keys
		}
		if err != nil {
			t.Fatal(err)
		}
		var o record.Object
		if err := record.ParseObject(f, &o); err != nil {
			t.Fatal(record.AtLine(r, err))
		}
		keys = append(keys, o.Key)
	}
}

func keyRange(from, to int) []string {
	var keys []string
	for i := from; i <= to; i++ {
		keys = append(keys, fmt.Sprintf("%02x", i))
	}
	return keys
}

func TestCampanileFixtures(t *testing.T) {
	b := listertest.New(campanileKeys())
	var full strings.Builder
	for _, c := range "0123456789abcdef" {
		fmt.Fprintf(&full, "/,%c\n", c)
	}
	full.WriteString(",000/\n")
	tests := []struct {
		name, parts string
		want        []string
	}{
		{"slash 0", "/,0\n", keyRange(0x00, 0x0f)},
		{"no delimiter 000/", ",000/\n", []string{"000/00"}},
		{"no delimiter 0", ",0\n", append(keyRange(0, 0), append([]string{"000/00"}, keyRange(1, 0x0f)...)...)},
		{"full part file", full.String(), append(keyRange(0, 0xff), "000/00")},
	}
	for _, tt := range tests {
		for _, pageSize := range []int32{0, 3} {
			t.Run(fmt.Sprintf("%s/page%d", tt.name, pageSize), func(t *testing.T) {
				l := &Lister{Client: b, Bucket: "bkt", MaxKeys: pageSize}
				got, set, err := run(t, l, parseUnits(t, tt.parts), Options{Concurrency: 4})
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(got, ",") != strings.Join(tt.want, ",") {
					t.Fatalf("got %v\nwant %v", got, tt.want)
				}
				if n := set.Get(CounterObjects); n != int64(len(tt.want)) {
					t.Fatalf("objects counter %d, want %d", n, len(tt.want))
				}
			})
		}
	}
}

func TestRange(t *testing.T) {
	b := listertest.New(append(campanileKeys(), "1", "p", "p/a", "p/b", "p/c", "q"))
	tests := []struct {
		name, parts string
		want        []string
	}{
		{"after and until", "range\t\t0e\t12\n", []string{"0f", "1", "10", "11", "12"}},
		{"from start", "range\t\t\t02\n", []string{"00", "000/00", "01", "02"}},
		{"to end", "range\t\tfd\t\\N\n", []string{"fe", "ff", "p", "p/a", "p/b", "p/c", "q"}},
		{"prefix", "range\tp/\t\t\\N\n", []string{"p/a", "p/b", "p/c"}},
		{"prefix after", "range\tp/\tp/a\tp/b\n", []string{"p/b"}},
		{"until between keys", "range\tp/\tp/a\tp/bb\n", []string{"p/b"}},
		{"until before prefix", "range\tp/\t\ta\n", nil},
		{"after before prefix", "range\tp/\tA\tp/a\n", []string{"p/a"}},
		{"tiling", "range\tp/\t\tp/a\nrange\tp/\tp/a\tp/b\nrange\tp/\tp/b\t\\N\n", []string{"p/a", "p/b", "p/c"}},
	}
	for _, tt := range tests {
		for _, versions := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/versions=%v", tt.name, versions), func(t *testing.T) {
				l := &Lister{Client: b, Bucket: "bkt", MaxKeys: 2, Versions: versions}
				got, _, err := run(t, l, parseUnits(t, tt.parts), Options{Concurrency: 2})
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(got, ",") != strings.Join(tt.want, ",") {
					t.Fatalf("got %q\nwant %q", got, tt.want)
				}
			})
		}
	}
}

// A range unit must stop paging at the first key past UNTIL.
func TestRangeStopsAtUntil(t *testing.T) {
	var keys []string
	for i := range 5000 {
		keys = append(keys, fmt.Sprintf("k%05d", i))
	}
	b := listertest.New(keys)
	l := &Lister{Client: b, Bucket: "bkt", MaxKeys: 100}
	got, _, err := run(t, l, parseUnits(t, "range\t\tk00099\tk00350\n"), Options{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 251 || got[0] != "k00100" || got[250] != "k00350" {
		t.Fatalf("got %d keys %v..%v", len(got), got[0], got[len(got)-1])
	}
	if c := b.Calls.Load(); c != 3 {
		t.Fatalf("%d requests, want 3 (pages after the one past UNTIL must not be fetched)", c)
	}
}

// Keys MinIO cannot host (`//`, a leading `/`) are listed here from the
// fake, which encodes them as S3 does with EncodingType=url; the rest also
// run against MinIO in cmd/s3list.
func TestOddKeysRoundTrip(t *testing.T) {
	keys := []string{"a\tb", "a\nb", "a\rb", `a\b`, "a,b", `\N`, "a b", " lead", "a+b", "a%2Bb", "é", "日本", "😀",
		"a//b", "/lead", "//", "dir/", "\x01ctl", strings.Repeat("x", 1024)}
	b := listertest.New(keys)
	for _, versions := range []bool{false, true} {
		l := &Lister{Client: b, Bucket: "bkt", MaxKeys: 2, Versions: versions}
		got, _, err := run(t, l, parseUnits(t, ",\n"), Options{Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "|") != strings.Join(b.Keys(), "|") {
			t.Fatalf("versions=%v: got %q\nwant %q", versions, got, b.Keys())
		}
	}
}

// manyUnits builds a part file of range units of very different sizes over
// keys k00000.., and the keys in order.
func manyUnits(n int) (keys []string, parts string) {
	for i := range n {
		keys = append(keys, fmt.Sprintf("k%05d", i))
	}
	var sb strings.Builder
	after := ""
	for i, step := 0, 1; ; i, step = i+step, step*2%997+1 {
		if i >= n-1 {
			fmt.Fprintf(&sb, "range\t\t%s\t\\N\n", after)
			break
		}
		fmt.Fprintf(&sb, "range\t\t%s\t%s\n", after, keys[i])
		after = keys[i]
	}
	return keys, sb.String()
}

// Units of different sizes finish out of order; the output must still be
// each unit's records contiguously in input order, also when waiting units
// spill to temp files and the head unit is throttled by a tiny buffer.
func TestRunOrder(t *testing.T) {
	keys, parts := manyUnits(20000)
	units := parseUnits(t, parts)
	b := listertest.New(keys)
	for _, opt := range []Options{
		{Concurrency: 1},
		{Concurrency: 8},
		{Concurrency: 8, WaitingMemory: 1, HeadMemory: 1, TempDir: t.TempDir()},
		{Concurrency: 32, WaitingMemory: 4096, HeadMemory: 512, TempDir: t.TempDir()},
	} {
		t.Run(fmt.Sprintf("%+v", opt), func(t *testing.T) {
			l := &Lister{Client: b, Bucket: "bkt", MaxKeys: 50}
			got, set, err := run(t, l, units, opt)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != strings.Join(keys, ",") {
				t.Fatalf("output differs: %d keys, want %d", len(got), len(keys))
			}
			if u := set.Get(CounterUnits); u != int64(len(units)) {
				t.Fatalf("units counter %d, want %d", u, len(units))
			}
		})
	}
}

// A unit that fails stops the output before it: every unit before it is
// complete, nothing after it is written.
func TestRunUnitError(t *testing.T) {
	keys, parts := manyUnits(3000)
	units := parseUnits(t, parts)
	bad := units[len(units)/2]
	b := listertest.New(keys)
	b.Fail = func(in *s3.ListObjectsV2Input) error {
		if aws.ToString(in.StartAfter) == bad.After && bad.After != "" {
			return errors.New("injected failure")
		}
		return nil
	}
	l := &Lister{Client: b, Bucket: "bkt", MaxKeys: 50}
	got, set, err := run(t, l, units, Options{Concurrency: 8, WaitingMemory: 100, TempDir: t.TempDir()})
	var ue *UnitError
	if !errors.As(err, &ue) || ue.Unit.Line != bad.Line || ue.Partial {
		t.Fatalf("error %v, want a non-partial UnitError at line %d", err, bad.Line)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("line %d:", bad.Line)) || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("error text %q lacks the line or the cause", err)
	}
	want := 0
	for want < len(keys) && keys[want] <= bad.After {
		want++
	}
	if strings.Join(got, ",") != strings.Join(keys[:want], ",") {
		t.Fatalf("output has %d keys, want exactly the %d before the failed unit", len(got), want)
	}
	if set.Get(CounterErrors) != 1 {
		t.Fatalf("errors counter %d, want 1", set.Get(CounterErrors))
	}
}

func TestRunCanceled(t *testing.T) {
	keys, parts := manyUnits(3000)
	units := parseUnits(t, parts)
	b := listertest.New(keys)
	ctx, cancel := context.WithCancel(context.Background())
	b.Fail = func(in *s3.ListObjectsV2Input) error {
		if b.Calls.Load() == 20 {
			cancel()
		}
		return nil
	}
	l := &Lister{Client: b, Bucket: "bkt", MaxKeys: 50}
	var out bytes.Buffer
	err := l.Run(ctx, units, &out, counters.New("s3list", CounterNames(false)...), Options{Concurrency: 4})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	got := outputKeys(t, &out)
	if len(got) >= len(keys) || strings.Join(got, ",") != strings.Join(keys[:len(got)], ",") {
		t.Fatalf("output after cancel is not a prefix of the listing (%d keys)", len(got))
	}
}

// A closed output (| head) stops the run with the write error.
func TestRunWriteError(t *testing.T) {
	keys, parts := manyUnits(20000)
	b := listertest.New(keys)
	l := &Lister{Client: b, Bucket: "bkt", MaxKeys: 100}
	err := l.Run(context.Background(), parseUnits(t, parts), failWriter{}, counters.New("s3list", CounterNames(false)...),
		Options{Concurrency: 4, HeadMemory: 1})
	if !errors.Is(err, errBroken) {
		t.Fatalf("error %v, want the write error", err)
	}
}

var errBroken = errors.New("broken pipe")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errBroken }

func BenchmarkRun(b *testing.B) {
	keys, _ := manyUnits(100000)
	bkt := listertest.New(keys)
	var parts strings.Builder
	for i := 0; i < 16; i++ {
		after, until := "", `\N`
		if i > 0 {
			after = keys[i*len(keys)/16]
		}
		if i < 15 {
			until = keys[(i+1)*len(keys)/16]
		}
		fmt.Fprintf(&parts, "range\t\t%s\t%s\n", after, until)
	}
	units := parseUnits(b, parts.String())
	l := &Lister{Client: bkt, Bucket: "bkt"}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Run(context.Background(), units, io.Discard, counters.New("s3list", CounterNames(false)...), Options{Concurrency: 4}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(keys)*b.N)/b.Elapsed().Seconds(), "keys/s")
}

// Inventory units go to Lister.Inventory, concurrently with range units, and
// keep their place in the output; without a reader they fail their unit.
func TestRunInventoryUnits(t *testing.T) {
	b := listertest.New([]string{"a", "b", "c"})
	const md5 = "d6a5b6ede6d3f1919be81aa77b862e2a"
	var parts strings.Builder
	var want []string
	for i := range 20 {
		if i == 10 {
			parts.WriteString("range\t\t\t\\N\n")
			want = append(want, "a", "b", "c")
		}
		fmt.Fprintf(&parts, "inventory\tinv\tdata/%02d.csv.gz\t1\t%s\tBucket, Key, Size, ETag\n", i, md5)
		for j := range i % 4 {
			want = append(want, fmt.Sprintf("data/%02d.csv.gz#%d", i, j))
		}
	}
	units := parseUnits(t, parts.String())
	var calls atomic.Int64
	l := &Lister{Client: b, Bucket: "bkt", Inventory: func(ctx context.Context, u inventory.Unit, emit Emit) error {
		calls.Add(1)
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(u.File.Key, "data/"), ".csv.gz"))
		for j := range n % 4 {
			if err := emit(&record.Object{Key: fmt.Sprintf("%s#%d", u.File.Key, j), ETag: "e", Bucket: "src"}); err != nil {
				return err
			}
		}
		return nil
	}}
	got, set, err := run(t, l, units, Options{Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) || calls.Load() != 20 || set.Get(CounterUnits) != 21 {
		t.Fatalf("got %q (%d calls, %d units)\nwant %q", got, calls.Load(), set.Get(CounterUnits), want)
	}
	l.Inventory = nil
	_, _, err = run(t, l, units, Options{Concurrency: 4})
	var ue *UnitError
	if !errors.As(err, &ue) || ue.Unit.Line != 1 || !strings.Contains(err.Error(), `read unit line 1: inventory data file "data/00.csv.gz" of bucket "inv": inventory unit: no inventory reader`) {
		t.Fatalf("error %v", err)
	}
}
