package dests

import (
	"strings"
	"testing"

	"github.com/s3pipe/s3pipe/lib/s3client"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Spec
		err  string
	}{
		{in: "s3://b", want: Spec{Bucket: "b", Side: s3client.Side{PathStyle: "auto"}}},
		{in: "s3://b/", want: Spec{Bucket: "b", Side: s3client.Side{PathStyle: "auto"}}},
		{in: "s3://dst-b,profile=s3pipe-b,endpoint-url=http://127.0.0.1:9001,region=eu-west-1,path-style=true",
			want: Spec{Bucket: "dst-b", Side: s3client.Side{Profile: "s3pipe-b", EndpointURL: "http://127.0.0.1:9001", Region: "eu-west-1", PathStyle: "true"}}},
		{in: "b", err: "want s3://BUCKET"},
		{in: "s3://", err: "want s3://BUCKET"},
		{in: "s3://b/prefix", err: "want s3://BUCKET"},
		{in: "s3://b,profile", err: "want KEY=VALUE"},
		{in: "s3://b,profile=", err: "want KEY=VALUE"},
		{in: "s3://b,region=x,region=y", err: "given twice"},
		{in: "s3://b,path-style=maybe", err: "want true, false or auto"},
		{in: "s3://b,secret-access-key=x", err: "no credentials in flags"},
		{in: "s3://b,colour=red", err: "unknown setting"},
	} {
		got, err := Parse(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Parse(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestParseAll(t *testing.T) {
	if _, err := ParseAll([]string{"s3://a", "s3://b,region=x"}, "p"); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]string{{"s3://a", "s3://a,endpoint-url=http://other:9000"}, {"s3://p"}} {
		if _, err := ParseAll(c, "p"); err == nil || !strings.Contains(err.Error(), "given twice") {
			t.Errorf("ParseAll(%q) error %v, want a duplicate bucket error", c, err)
		}
	}
}

func TestClientsFor(t *testing.T) {
	def, other := &s3client.Client{Key: "def"}, &s3client.Client{Key: "other"}
	c := &Clients{Default: def, ByBucket: map[string]*s3client.Client{"b": other}}
	if c.For("b") != other || c.For("a") != def || c.For("") != def {
		t.Fatal("For routes wrongly")
	}
}

// FuzzParse: no panic, and every accepted spec reads back from its String.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"s3://b", "s3://b,profile=p,endpoint-url=http://h:1,region=r,path-style=false", "s3://b,,", "s3://b,a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(sp.String())
		if err != nil || back != sp {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, sp, sp.String(), back, err)
		}
	})
}
