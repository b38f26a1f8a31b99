package events

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/s3pipe/s3pipe/lib/record"
)

func FuzzDecoder(f *testing.F) {
	for _, name := range []string{"s3-put.json", "s3-lines.jsonl", "sns.json", "sqs-receive.json", "eventbridge.json", "lambda-sqs.json"} {
		f.Add(fixture(f, name), false)
	}
	f.Add([]byte(`[{"Records":[]}, 1, "x"]`), true)
	f.Fuzz(func(t *testing.T, in []byte, ignore bool) {
		d := NewDecoder(strings.NewReader(string(in)), Options{IgnoreUnknown: ignore})
		n := int64(0)
		for {
			e, err := d.Next()
			if err != nil {
				if err != io.EOF && err.Error() == "" {
					t.Fatal("empty error message")
				}
				break
			}
			n++
			if e.Bucket == "" {
				t.Fatalf("event without a bucket: %+v", e)
			}
			var o record.Object
			e.Object(&o)
			if o.DeleteMarker != e.Deleted {
				t.Fatalf("record %+v from event %+v", o, e)
			}
		}
		if d.Stats.Created+d.Stats.Deleted < n {
			t.Fatalf("returned %d events, stats %+v", n, d.Stats)
		}
	})
}

// FuzzKeyRoundTrip: any key, URL-encoded as S3 encodes it, wrapped in each
// envelope, comes back byte for byte.
func FuzzKeyRoundTrip(f *testing.F) {
	for _, k := range []string{"red flower.jpg", "a+b", "日本/été", "tab\tnl\n", `\N`, "100%"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		enc := url.QueryEscape(key)
		s3 := fmt.Sprintf(`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":%s,"size":1,"eTag":"e"}}}]}`, jsonString(enc))
		bridge := fmt.Sprintf(`{"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"b"},"object":{"key":%s,"size":1}}}`, jsonString(enc))
		sns := fmt.Sprintf(`{"Type":"Notification","Message":%s}`, jsonString(s3))
		sqs := fmt.Sprintf(`{"Messages":[{"Body":%s},{"Body":%s}]}`, jsonString(sns), jsonString(bridge))
		for _, in := range []string{s3, bridge, sns, sqs} {
			es, _, err := readAll(t, strings.NewReader(in), Options{})
			if err != nil {
				t.Fatalf("key %q in %s: %v", key, in, err)
			}
			if len(es) == 0 {
				t.Fatalf("key %q: no events from %s", key, in)
			}
			for _, e := range es {
				if e.Key != key {
					t.Fatalf("key %q came back as %q from %s", key, e.Key, in)
				}
			}
		}
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func BenchmarkDecodeSQS(b *testing.B) {
	in := fixture(b, "sqs-receive.json")
	b.SetBytes(int64(len(in)))
	for i := 0; i < b.N; i++ {
		d := NewDecoder(strings.NewReader(string(in)), Options{})
		for {
			if _, err := d.Next(); err != nil {
				break
			}
		}
	}
}
