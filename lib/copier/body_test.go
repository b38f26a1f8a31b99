package copier

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestVerifyReader(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 10000)
	sum := md5.Sum(data)
	bad := md5.Sum([]byte("x"))
	cases := []struct {
		name string
		src  io.Reader
		want []byte
		err  error
		// last: the final bytes must not be handed out on a digest error
		maxOut int
	}{
		{"ok", bytes.NewReader(data), sum[:], nil, len(data)},
		{"ok one byte reads", iotest.OneByteReader(bytes.NewReader(data)), sum[:], nil, len(data)},
		{"no digest", bytes.NewReader(data), nil, nil, len(data)},
		{"truncated", bytes.NewReader(data[:500]), nil, ErrTruncated, 500},
		{"wrong digest", bytes.NewReader(data), bad[:], ErrDigest, len(data) - 1},
		{"wrong digest one byte reads", iotest.OneByteReader(bytes.NewReader(data)), bad[:], ErrDigest, len(data) - 1},
		{"longer source", bytes.NewReader(append(data, 'x')), sum[:], nil, len(data)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newVerifyReader(c.src, int64(len(data)), c.want)
			out, err := io.ReadAll(v)
			if !errors.Is(err, c.err) && !(c.err == nil && err == nil) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			if len(out) > c.maxOut {
				t.Errorf("handed out %d bytes, at most %d allowed", len(out), c.maxOut)
			}
			if c.err == nil && (!v.Done() || !bytes.Equal(out, data)) {
				t.Errorf("done %v, %d bytes", v.Done(), len(out))
			}
		})
	}
}

func TestCopySource(t *testing.T) {
	cases := map[[3]string]string{
		{"b", "a b+c", ""}:          "b/a%20b%2Bc",
		{"b", "dir/ü\t%", "v1"}:     "b/dir/%C3%BC%09%25?versionId=v1",
		{"b", `\N?x=1&y#z~._-`, ""}: "b/%5CN%3Fx%3D1%26y%23z~._-",
	}
	for in, want := range cases {
		if got := CopySource(in[0], in[1], in[2]); got != want {
			t.Errorf("CopySource(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkStreamLoop measures the streaming copy loop (GET body ->
// verifying reader -> PUT body) with in-memory readers.
func BenchmarkStreamLoop(b *testing.B) {
	const n = 16 << 20
	data := make([]byte, n)
	sum := md5.Sum(data)
	buf := make([]byte, 32<<10) // net/http's body copy buffer size
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		v := newVerifyReader(bytes.NewReader(data), n, sum[:])
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{v}, buf); err != nil {
			b.Fatal(err)
		}
	}
}
