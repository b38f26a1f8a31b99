package events

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/s3pipe/s3pipe/lib/record"
)

func readAll(t testing.TB, r io.Reader, opts Options) ([]Event, *Decoder, error) {
	t.Helper()
	d := NewDecoder(r, opts)
	var es []Event
	for {
		e, err := d.Next()
		if err == io.EOF {
			return es, d, nil
		}
		if err != nil {
			return es, d, err
		}
		es = append(es, *e)
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// brief is the part of an Event a table row checks.
type brief struct {
	Bucket, Key, ETag, VersionID string
	Size                         int64
	Deleted, DeleteMarker        bool
}

func briefs(es []Event) []brief {
	var bs []brief
	for _, e := range es {
		bs = append(bs, brief{e.Bucket, e.Key, e.ETag, e.VersionID, e.Size, e.Deleted, e.DeleteMarker})
	}
	return bs
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		file  string
		want  []brief
		stats Stats
	}{
		{"s3-put.json", []brief{{"src-bucket", "日本/red flower+1.jpg", "d41d8cd98f00b204e9800998ecf8427e", "096fKKXTRTtl3on89fVO.nfljtsv6qko", 1024, false, false}},
			Stats{Documents: 1, Created: 1}},
		{"s3-lines.jsonl", []brief{
			{"src-bucket", "big/part file", "a1b2c3d4e5f60718293a4b5c6d7e8f90-2", "", 16777216, false, false},
			{"src-bucket", "tab\tand\nnewline", "33333333333333333333333333333333", "", 3, false, false},
			{"src-bucket", "gone.txt", "", "dm-version-1", 0, true, true},
		}, Stats{Documents: 5, Created: 2, Deleted: 1, TestEvents: 1, Other: 1}},
		{"sns.json", []brief{{"src-bucket", "sns/a b c", "77777777777777777777777777777777", "", 7, false, false}},
			Stats{Documents: 1, Created: 1}},
		{"sqs-receive.json", []brief{
			{"src-bucket", "sqs/raw key", "11111111111111111111111111111111", "", 1, false, false},
			{"src-bucket", "sqs/via sns", "22222222222222222222222222222222", "", 2, false, false},
			{"src-bucket", "sqs/via eventbridge", "33333333333333333333333333333333", "", 3, false, false},
		}, Stats{Documents: 1, Created: 3}},
		{"eventbridge.json", []brief{
			{"src-bucket", "eb/example keyé", "b1946ac92492d2347c6235b4d2611184", "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e", 5, false, false},
			{"src-bucket", "eb/old", "d41d8cd98f00b204e9800998ecf8427e", "1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF", 0, true, true},
		}, Stats{Documents: 3, Created: 1, Deleted: 1, Other: 1}},
		{"lambda-sqs.json", []brief{{"src-bucket", "lambda/k+plus", "44444444444444444444444444444444", "", 4, false, false}},
			Stats{Documents: 1, Created: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			es, d, err := readAll(t, bytes.NewReader(fixture(t, tt.file)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := briefs(es)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d events %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], tt.want[i])
				}
			}
			if d.Stats != tt.stats {
				t.Errorf("stats %+v, want %+v", d.Stats, tt.stats)
			}
		})
	}
}

// All fixtures concatenated in one stream, pretty-printed and line-delimited
// mixed, decode to the sum of their events.
func TestConcatenatedInput(t *testing.T) {
	var all bytes.Buffer
	n := 0
	for _, f := range []string{"s3-put.json", "s3-lines.jsonl", "sns.json", "sqs-receive.json", "eventbridge.json", "lambda-sqs.json"} {
		all.Write(fixture(t, f))
		es, _, err := readAll(t, bytes.NewReader(fixture(t, f)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		n += len(es)
	}
	es, d, err := readAll(t, &all, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != n || d.Stats.Documents != 12 {
		t.Fatalf("concatenated: %d events (want %d), stats %+v", len(es), n, d.Stats)
	}
}

func TestEventTimeAndObject(t *testing.T) {
	es, _, err := readAll(t, bytes.NewReader(fixture(t, "s3-put.json")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)
	if !es[0].Time.Equal(want) || es[0].Sequencer != "0055AED6DCD90281E5" || es[0].Name != "ObjectCreated:Put" {
		t.Fatalf("event %+v", es[0])
	}
	var o record.Object
	es[0].Object(&o)
	wantObj := record.Object{Key: "日本/red flower+1.jpg", ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 1024,
		MTime: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), VersionID: "096fKKXTRTtl3on89fVO.nfljtsv6qko", Bucket: "src-bucket"}
	if o != wantObj {
		t.Fatalf("object %+v, want %+v", o, wantObj)
	}
}

func TestRawEventBridgeKeys(t *testing.T) {
	es, _, err := readAll(t, bytes.NewReader(fixture(t, "eventbridge.json")), Options{RawEventBridgeKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	if es[0].Key != "eb/example+key%C3%A9" {
		t.Fatalf("raw key %q", es[0].Key)
	}
	// S3 event keys are always decoded.
	es, _, err = readAll(t, bytes.NewReader(fixture(t, "sns.json")), Options{RawEventBridgeKeys: true})
	if err != nil || es[0].Key != "sns/a b c" {
		t.Fatalf("S3 key %q, %v", es[0].Key, err)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
		opts           Options
		unknown        int64
	}{
		{"bad json", `{"Records": [`, "bad JSON", Options{}, 0},
		{"scalar", `42`, "want a JSON object or array", Options{}, 0},
		{"unknown object", `{"hello": 1}`, `not an S3 event`, Options{}, 0},
		{"unknown ignored", `{"hello": 1}` + "\n" + `[{"x":2}]`, "", Options{IgnoreUnknown: true}, 2},
		{"body not json", `{"Messages":[{"Body":"hello"}]}`, "Messages[0].Body: a message body that is not JSON", Options{}, 0},
		{"bad key escape", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%zz","size":1}}}]}`, "Records[0]: s3.object.key \"a%zz\": bad URL encoding", Options{}, 0},
		{"no size", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, "without s3.object.size", Options{}, 0},
		{"bad size", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":-1}}}]}`, "size: want a non-negative integer", Options{}, 0},
		{"no bucket", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"k","size":1}}}]}`, "without s3.bucket.name", Options{}, 0},
		{"bad time", `{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"noon","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":1}}}]}`, "eventTime", Options{}, 0},
		{"eventbridge bad key", `{"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"b"},"object":{"key":"100%","size":1}}}`, "--events-raw-eventbridge-keys", Options{}, 0},
		{"eventbridge raw ok", `{"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"b"},"object":{"key":"100%","size":1}}}`, "", Options{RawEventBridgeKeys: true}, 0},
		{"too deep", strings.Repeat(`{"Type":"Notification","Message":`, 12) + `{}` + strings.Repeat(`}`, 12), "nested too deeply", Options{}, 0},
		{"size as string", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":"12"}}}]}`, "", Options{}, 0},
		{"minio s3: prefix", `{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":1}}}]}`, "", Options{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, d, err := readAll(t, strings.NewReader(tt.in), tt.opts)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d.Stats.Unknown != tt.unknown {
					t.Fatalf("unknown = %d, want %d", d.Stats.Unknown, tt.unknown)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			// The error is sticky: Next does not go on past it.
			if _, err2 := d.Next(); err2 == nil || err2 == io.EOF {
				t.Fatalf("Next after an error returned %v", err2)
			}
		})
	}
}

func TestNewer(t *testing.T) {
	t0 := time.Unix(100, 0)
	tests := []struct {
		a, b Event
		want bool
	}{
		{Event{Sequencer: "0055AED6DCD90281E6"}, Event{Sequencer: "0055AED6DCD90281E5"}, true},
		{Event{Sequencer: "0055AED6DCD90281E5"}, Event{Sequencer: "0055AED6DCD90281E6"}, false},
		// Different lengths: right-pad with zeros before comparing.
		{Event{Sequencer: "0055AED6DCD90281E5"}, Event{Sequencer: "0055AED6DCD902"}, true},
		{Event{Sequencer: "0056"}, Event{Sequencer: "0055FFFFFFFF"}, true},
		{Event{Sequencer: "0a"}, Event{Sequencer: "0A"}, false},
		{Event{Time: t0.Add(time.Second)}, Event{Sequencer: "FF", Time: t0}, true},
		{Event{Time: t0}, Event{Time: t0}, false},
	}
	for i, tt := range tests {
		if got := Newer(&tt.a, &tt.b); got != tt.want {
			t.Errorf("%d: Newer(%+v, %+v) = %v", i, tt.a, tt.b, got)
		}
	}
}

const createA1 = `{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"2024-01-01T00:00:01Z","s3":{"bucket":{"name":"b"},"object":{"key":"a","size":1,"eTag":"e1","sequencer":"01"}}}]}`
const createA2 = `{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"2024-01-01T00:00:02Z","s3":{"bucket":{"name":"b"},"object":{"key":"a","size":2,"eTag":"e2","sequencer":"02"}}}]}`
const deleteA3 = `{"Records":[{"eventName":"ObjectRemoved:Delete","eventTime":"2024-01-01T00:00:03Z","s3":{"bucket":{"name":"b"},"object":{"key":"a","sequencer":"03"}}}]}`
const createC = `{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"2024-01-01T00:00:01Z","s3":{"bucket":{"name":"b"},"object":{"key":"c","size":3,"eTag":"e3","sequencer":"09"}}}]}`
const createB = `{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"2024-01-01T00:00:01Z","s3":{"bucket":{"name":"b"},"object":{"key":"b","size":4,"eTag":"e4","sequencer":"01"}}}]}`

func TestEmit(t *testing.T) {
	tests := []struct {
		name   string
		in     []string
		opts   EmitOptions
		want   []string // key:etag:size:dm
		counts Counts
		err    string
	}{
		{"input order, deletes counted", []string{createC, createA2, createA1, deleteA3, createB}, EmitOptions{},
			[]string{"c:e3:3:false", "a:e2:2:false", "a:e1:1:false", "b:e4:4:false"}, Counts{Emitted: 4, DeletesSkipped: 1}, ""},
		{"input order with deletes", []string{createA1, deleteA3}, EmitOptions{Deletes: true},
			[]string{"a:e1:1:false", "a::0:true"}, Counts{Emitted: 2}, ""},
		{"latest: out-of-order events, newest wins", []string{createC, createA2, createA1, createB}, EmitOptions{Latest: true},
			[]string{"a:e2:2:false", "b:e4:4:false", "c:e3:3:false"}, Counts{Emitted: 3, Superseded: 1}, ""},
		{"latest: deleted key is not copied", []string{deleteA3, createA2, createA1, createB}, EmitOptions{Latest: true},
			[]string{"b:e4:4:false"}, Counts{Emitted: 1, Superseded: 2, DeletesSkipped: 1}, ""},
		{"latest: deleted key as delete marker", []string{createA2, deleteA3, createA1}, EmitOptions{Latest: true, Deletes: true},
			[]string{"a::0:true"}, Counts{Emitted: 1, Superseded: 2}, ""},
		{"latest: bounded", []string{createA1, createB, createC}, EmitOptions{Latest: true, MaxKeys: 2}, nil, Counts{}, "more than 2 distinct keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(strings.NewReader(strings.Join(tt.in, "\n")), Options{})
			var got []string
			c, err := Emit(d, tt.opts, func(o *record.Object) error {
				got = append(got, strings.Join([]string{o.Key, o.ETag, itoa(o.Size), btoa(o.DeleteMarker)}, ":"))
				return nil
			})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
			if c != tt.counts {
				t.Errorf("counts %+v, want %+v", c, tt.counts)
			}
		})
	}
}

func TestEmitStopsOnError(t *testing.T) {
	stop := errors.New("stop")
	d := NewDecoder(strings.NewReader(createA1+createB), Options{})
	n := 0
	_, err := Emit(d, EmitOptions{}, func(*record.Object) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err %v after %d", err, n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func btoa(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
