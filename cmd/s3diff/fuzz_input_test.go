package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// FuzzRunInput runs s3diff's whole pipe mode (run: open both listings,
// join, write) on arbitrary source and destination bytes. Whatever the
// input: no panic; an error is a usage or line-numbered input error; stdout
// holds only complete lines, each a line of the source listing.
func FuzzRunInput(f *testing.F) {
	rec := "\te\t1\t2024-01-01 00:00:00\t\\N\t\\N\t\\N\tfalse\tb\n"
	f.Add([]byte("a"+rec+"b"+rec), []byte("b"+rec))
	f.Add([]byte("b"+rec+"a"+rec), []byte(""))
	f.Add([]byte("a"+rec), []byte("b"+rec+"a"+rec))
	f.Add([]byte("a\xff"+rec), []byte("a"+rec))
	f.Add([]byte("a"+rec+"b\te\n"), []byte(""))
	f.Add([]byte("\x1f\x8b\x08\x00"), []byte("(\xb5/\xfd"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src, dst []byte) {
		dstFile := filepath.Join(dir, "dst.tsv")
		if err := os.WriteFile(dstFile, dst, 0o644); err != nil {
			t.Fatal(err)
		}
		c := CLI{Src: "-", Dst: dstFile, Compare: "etag-size", Emit: "copy"}
		c.Quiet = true
		var out, errb bytes.Buffer
		sio := &stream.IO{Stdin: bytes.NewReader(src), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		err := run(context.Background(), &c, sio)
		var pe *tsv.ParseError
		var ie *stream.InputError
		if err != nil && !errors.As(err, &pe) && !errors.As(err, &ie) {
			t.Fatalf("error is not an input error: %T %v", err, err)
		}
		if errors.As(err, &pe) && pe.Line < 1 {
			t.Fatalf("input error without a line: %v", err)
		}
		o := out.Bytes()
		if len(o) > 0 && o[len(o)-1] != '\n' {
			t.Fatalf("stdout ends in a partial line: %q", o)
		}
		whole := append(append([]byte("\n"), src...), '\n')
		for _, l := range bytes.SplitAfter(o, []byte("\n")) {
			if len(l) > 0 && !bytes.Contains(whole, append([]byte("\n"), l...)) {
				t.Fatalf("emitted %q, not a source line", l)
			}
		}
	})
}
