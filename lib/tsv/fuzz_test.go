package tsv

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzRoundTrip writes arbitrary fields and reads them back. The fields are
// data split at sep (so every byte value can appear in some field); bit i of
// nulls makes field i NULL.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("key\tetag\n123"), byte('\t'), uint64(0))
	f.Add([]byte(`\N|\\N|a\Nb|\|\\|\t|N`), byte('|'), uint64(0b1))
	f.Add([]byte("a\r\nb|\r|\n|"), byte('|'), uint64(0b10100))
	f.Add([]byte("\xff\xfe|\xc3|\x00|\x7f|\u0085|é日本😀"), byte('|'), uint64(0))
	f.Add(allBytes(), byte(0x41), uint64(0xffff_0000_ffff_0000))
	f.Add(nasty1024(), byte(' '), uint64(1<<63))
	f.Add([]byte(""), byte(0), uint64(1))
	f.Add([]byte(""), byte(0), uint64(0))
	f.Add(bytes.Repeat([]byte{0}, 80), byte(0), ^uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, sep byte, nulls uint64) {
		in := bytes.Split(data, []byte{sep})
		for i := range in {
			if i < 64 && nulls&(1<<i) != 0 {
				in[i] = nil
			} else if in[i] == nil {
				in[i] = []byte{}
			}
		}
		out := encode(t, in, in)
		if bytes.Count(out, []byte("\n")) != 2 {
			t.Fatalf("encoding of %q is not two lines: %q", in, out)
		}
		r := NewReader(bytes.NewReader(out))
		for i := 0; i < 2; i++ {
			got, err := r.Read()
			if err != nil {
				t.Fatalf("Read %q (from %q): %v", out, in, err)
			}
			if !sameFields(got, in) {
				t.Fatalf("round trip of %q gave %q", in, got)
			}
		}
		if _, err := r.Read(); err != io.EOF {
			t.Fatalf("after two records: %v", err)
		}
		// Every field alone also round-trips through AppendEscaped/Unescape.
		for _, b := range in {
			got, err := Unescape(AppendEscaped(nil, b))
			if err != nil || (got == nil) != (b == nil) || !bytes.Equal(got, b) {
				t.Fatalf("Unescape(AppendEscaped(%q)) = %q, %v", b, got, err)
			}
		}
	})
}

// FuzzRead feeds arbitrary bytes to the Reader. It must never panic; every
// error is a *ParseError at a real line; and a line that reads successfully
// re-encodes to exactly its own bytes (the encoding is canonical: each value
// has one spelling), so reading the re-encoding gives the same fields.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"", "\n", "\n\n", "a\tb\n", "a\tb", "\\N", "\\N\t\\N\n", "\\\\N\n",
		"a\\Nb\n", "\\x\n", "a\\", "a\\\tb\n", "a\tb\r\n", "\r", "a\rb\n",
		"0\tkey\n", "\xff\xfe\t\x00\t\x7f\n", "é\t日本\t😀\n",
		"key\tetag\t12\t2024-01-02 03:04:05\t\\N\tnull\ttrue\tfalse\tb\n",
		"ok\nok\na\t\\x\nok\n", "\\t\\n\\r\\\\\n",
	} {
		f.Add([]byte(s), false, uint8(0))
	}
	f.Add([]byte("12\ta\\tb\nx\ty\n"), true, uint8(0))
	f.Add([]byte("123456789\n1\n12345\n"), false, uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, skipKey bool, maxLine uint8) {
		r := NewReader(bytes.NewReader(data))
		r.SkipKey = skipKey
		if maxLine > 0 {
			r.MaxLine = int(maxLine)
		}
		lines := bytes.Split(data, []byte("\n"))
		for n := 0; ; n++ {
			if n > len(data)+1 {
				t.Fatal("Read does not reach the end of the input")
			}
			got, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error %v is a %T, not a *ParseError", err, err)
				}
				if pe.Line < 1 || pe.Line > int64(len(lines)) || pe.Column < 0 {
					t.Fatalf("error at line %d, column %d of %d lines", pe.Line, pe.Column, len(lines))
				}
				continue
			}
			line := lines[r.Line()-1]
			if len(line) > r.MaxLine {
				t.Fatalf("line %d of %d bytes accepted with MaxLine %d", r.Line(), len(line), r.MaxLine)
			}
			got = clone(got)
			enc := encode(t, got)
			if skipKey {
				_, line, _ = bytes.Cut(line, []byte("\t"))
			}
			if !bytes.Equal(enc[:len(enc)-1], line) {
				t.Fatalf("line %q read as %q re-encodes as %q", line, got, enc)
			}
			again, err := NewReader(bytes.NewReader(enc)).Read()
			if err != nil || !sameFields(again, got) {
				t.Fatalf("re-reading %q: %q, %v; want %q", enc, again, err, got)
			}
		}
	})
}
