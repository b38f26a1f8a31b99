package hadooprun

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// runJob runs args (after "hadoop-streaming") with s3://t/ mapped to dir.
func runJob(t *testing.T, r *Runner, dir string, args ...string) (*Result, error) {
	t.Helper()
	if r.FS == nil {
		r.FS = map[string]string{"s3://t/": dir}
	}
	r.Env = append(r.Env, "PATH="+os.Getenv("PATH"))
	j, err := ParseStreaming("test job", append([]string{"hadoop-streaming"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	return r.Run(context.Background(), j)
}

func readOutput(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		out[e.Name()] = string(b)
	}
	return out
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// NLineInputFormat: N lines per map task, each "<byte offset>\t<line>", and
// the environment Hadoop gives a map task.
func TestNLineSplitsOffsetsEnv(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "in/parts.txt"), "alpha\nbe ta\r\ngamma\n\ndelta")
	res, err := runJob(t, &Runner{Slots: 2}, dir,
		"-D", "mapreduce.input.lineinputformat.linespermap=2", "-D", "my.option-x=1",
		"-inputformat", NLineInputFormat, "-input", "s3://t/in/", "-output", "s3://t/out", "-numReduceTasks", "0",
		"-cmdenv", "EXTRA=yes",
		"-mapper", `bash -c 'while IFS= read -r l; do printf "%s|%s|%s|%s|%s|%s|%s|%s|%s\n" "$mapreduce_task_partition" "$l" "$mapreduce_task_ismap" "$mapred_input_format_class" "$map_input_file" "$mapreduce_map_input_start" "$my_option_x" "$EXTRA" "$mapred_line_input_format_linespermap"; done'`)
	if err != nil {
		t.Fatal(err)
	}
	if res.MapTasks != 3 {
		t.Errorf("map tasks: got %d, want 3 (5 lines, 2 per map)", res.MapTasks)
	}
	got := readOutput(t, filepath.Join(dir, "out"))
	f := "s3://t/in/parts.txt"
	want := map[string]string{
		"_SUCCESS":   "",
		"part-00000": fmt.Sprintf("0|0\talpha|true|%s|%s|0|1|yes|2\n0|6\tbe ta|true|%s|%s|0|1|yes|2\n", NLineInputFormat, f, NLineInputFormat, f),
		"part-00001": fmt.Sprintf("1|13\tgamma|true|%s|%s|12|1|yes|2\n1|19\t|true|%s|%s|12|1|yes|2\n", NLineInputFormat, f, NLineInputFormat, f),
		"part-00002": fmt.Sprintf("2|20\tdelta|true|%s|%s|19|1|yes|2\n", NLineInputFormat, f),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s:\n got %q\nwant %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("output files %v, want %d", keys(got), len(want))
	}
}

func keys(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// TextInputFormat: the key (offset) is not given to the mapper; hidden files
// are skipped; gzip input is read; gzip output is written.
func TestTextInputGzip(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("x\ty\nz\n"))
	zw.Close()
	write(t, filepath.Join(dir, "in/part-00000.gz"), gz.String())
	write(t, filepath.Join(dir, "in/_SUCCESS"), "junk\n")
	write(t, filepath.Join(dir, "in/.hidden"), "junk\n")
	_, err := runJob(t, &Runner{}, dir,
		"-D", "mapreduce.output.fileoutputformat.compress=true",
		"-D", "mapreduce.output.fileoutputformat.compress.codec=org.apache.hadoop.io.compress.GzipCodec",
		"-input", "s3://t/in", "-output", "s3://t/out", "-numReduceTasks", "0", "-mapper", "cat")
	if err != nil {
		t.Fatal(err)
	}
	got := readOutput(t, filepath.Join(dir, "out"))
	if got["part-00000.gz"] != "x\ty\nz\t\n" {
		t.Errorf("got %q", got["part-00000.gz"])
	}
}

// Shuffle: KeyFieldBasedPartitioner on fields 1 and 3 of a 3-field key, a
// byte-order sort, reducers fed "key\tvalue", and counters summed.
func TestShufflePartitionSortCounters(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	for i := range 60 {
		// key fields: a, b (ignored by the partitioner), c; then a value.
		fmt.Fprintf(&in, "k%d\tb%d\tu%d\tv%d\n", i%7, i, i%3, i)
	}
	write(t, filepath.Join(dir, "in/x"), in.String())
	res, err := runJob(t, &Runner{Slots: 3, Seed: 7}, dir,
		"-D", "stream.num.map.output.key.fields=3", "-D", "mapreduce.partition.keypartitioner.options=-k1,1 -k3,3",
		"-input", "s3://t/in", "-output", "s3://t/out",
		"-partitioner", KeyFieldBasedPartitioner, "-numReduceTasks", "4",
		"-mapper", `bash -c 'cat; echo reporter:counter:g,mapped,5 >&2'`,
		"-reducer", `bash -c 'cat; echo reporter:counter:g,reduced,1 >&2; echo "reporter:status:hi" >&2'`)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counters["g,mapped"] != 5 || res.Counters["g,reduced"] != 4 {
		t.Errorf("counters %v", res.Counters)
	}
	got := readOutput(t, filepath.Join(dir, "out"))
	where := map[string]string{} // (field1, field3) -> part file
	total := 0
	for name, text := range got {
		if name == "_SUCCESS" {
			continue
		}
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		var ks []string
		for _, l := range lines {
			f := strings.Split(l, "\t")
			if len(f) != 4 {
				t.Fatalf("%s: line %q", name, l)
			}
			total++
			id := f[0] + "/" + f[2]
			if p, ok := where[id]; ok && p != name {
				t.Errorf("key fields %s in %s and %s", id, p, name)
			}
			where[id] = name
			ks = append(ks, strings.Join(f[:3], "\t"))
		}
		if !sort.StringsAreSorted(ks) {
			t.Errorf("%s: keys not sorted: %q", name, ks)
		}
	}
	if total != 60 {
		t.Errorf("%d lines out, want 60", total)
	}
	// Java's arithmetic: KeyFieldBasedPartitioner hashes the bytes of the
	// chosen fields, 31*h + b, from 0, then (h & MAX_INT) % n.
	if p := partitionOf([]byte("k1\tb1\tu1"), []keySpec{{1, 1}, {3, 3}}, '\t', 4); p != javaMod(javaHash("k1", 0), "u1", 4) {
		t.Errorf("partition %d", p)
	}
}

func javaHash(s string, h int32) int32 { return javaHashBytes([]byte(s), h) }
func javaMod(h int32, s string, n int) int {
	return int(javaHashBytes([]byte(s), h)&0x7fffffff) % n
}

// Text("hello").hashCode() hashes the bytes 31*h+b from 1, which for ASCII
// is "hello".hashCode() (99162322) + 31^5 (28629151) = 127791473.
func TestJavaHash(t *testing.T) {
	if got := javaHashBytes([]byte("hello"), 1); got != 127791473 {
		t.Errorf("hashBytes(hello) = %d", got)
	}
	// Signed bytes: 0xff is -1.
	if got := javaHashBytes([]byte{0xff}, 0); got != -1 {
		t.Errorf("hashBytes(ff) = %d", got)
	}
}

// A killed attempt's output is dropped; the retry's is kept; only the
// successful attempt's counters count.
func TestRetriedAttempt(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "in/x"), "a\nb\nc\nd\n")
	f := &Fault{Job: "test", Map: true, Task: 1, Attempt: 0, AfterLines: 1}
	res, err := runJob(t, &Runner{Faults: []*Fault{f}}, dir,
		"-D", "mapreduce.input.lineinputformat.linespermap=2", "-D", "stream.map.input.ignoreKey=true",
		"-inputformat", NLineInputFormat, "-input", "s3://t/in", "-output", "s3://t/out", "-numReduceTasks", "0",
		"-mapper", `bash -c 'echo reporter:counter:g,n,1 >&2; while read l; do echo "$l $mapreduce_task_attempt_id"; sleep 0.2; done'`)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Fired {
		t.Fatal("fault did not fire")
	}
	got := readOutput(t, filepath.Join(dir, "out"))
	if want := "c attempt_1700000000000_0001_m_000001_1\t\nd attempt_1700000000000_0001_m_000001_1\t\n"; got["part-00001"] != want {
		t.Errorf("part-00001 %q, want %q", got["part-00001"], want)
	}
	if res.Counters["g,n"] != 2 {
		t.Errorf("counters %v: want 2 (one per successful task)", res.Counters)
	}
	if _, err := os.Stat(filepath.Join(dir, "out/_temporary")); !os.IsNotExist(err) {
		t.Errorf("_temporary left: %v", err)
	}
	n := 0
	for _, a := range res.Attempts {
		if a.Killed {
			n++
		}
	}
	if len(res.Attempts) != 3 || n != 1 {
		t.Errorf("attempts %+v", res.Attempts)
	}
}

// A command that exits 0 without reading its input fails, like Hadoop's
// broken pipe; after maxattempts the job fails.
func TestUnreadInputFails(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "in/x"), strings.Repeat("line\n", 200000))
	_, err := runJob(t, &Runner{}, dir, "-D", "mapreduce.map.maxattempts=2",
		"-input", "s3://t/in", "-output", "s3://t/out", "-numReduceTasks", "0", "-mapper", "true")
	if err == nil || !strings.Contains(err.Error(), "failed 2 attempts") {
		t.Fatalf("got %v", err)
	}
}

func TestParseStreamingErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-input", "a", "-D", "x=1", "-output", "o", "-mapper", "m"}, "after streaming options"},
		{[]string{"-input", "a", "-output", "o", "-mapper", "m", "-combiner", "c"}, "not supported"},
		{[]string{"-output", "o", "-mapper", "m"}, "no -input"},
		{[]string{"-input", "a", "-output", "o", "-mapper", "m", "-numReduceTasks", "2"}, "no -reducer"},
		{[]string{"-input", "a", "-output", "o", "-mapper", "m", "-inputformat", "Foo"}, "not supported"},
	} {
		_, err := ParseStreaming("j", append([]string{"hadoop-streaming"}, tt.args...))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"./s3list --bucket b --units -", []string{"./s3list", "--bucket", "b", "--units", "-"}},
		{"  a   b ", []string{"a", "b"}},
		{`bash -c 'x | y "z" $?'`, []string{"bash", "-c", `x | y "z" $?`}},
		{`a"b c"d`, []string{"a", "b c", "d"}},
		{`ab'cd'`, []string{"ab", "cd"}},
		{`''`, nil},
		{`'open quote`, []string{"open quote"}},
	} {
		got := SplitArgs(tt.in)
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("SplitArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{"a b", `bash -c 'x "y"'`, `"a'b"`, "'", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range SplitArgs(s) {
			if w == "" {
				t.Fatalf("empty word from %q", s)
			}
			if !strings.Contains(s, w) {
				t.Fatalf("word %q not in %q", w, s)
			}
		}
	})
}

func FuzzPartition(f *testing.F) {
	f.Add([]byte("a\tb\tc"), 3)
	f.Fuzz(func(t *testing.T, key []byte, n int) {
		if n < 1 || n > 1000 {
			return
		}
		p := partitionOf(key, []keySpec{{1, 1}, {3, 0}}, '\t', n)
		if p < 0 || p >= n {
			t.Fatalf("partition %d of %d", p, n)
		}
		if p2 := partitionOf(key, nil, '\t', n); p2 < 0 || p2 >= n {
			t.Fatalf("hash partition %d of %d", p2, n)
		}
	})
}
