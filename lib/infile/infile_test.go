package infile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func TestOpen(t *testing.T) {
	const text = "a\tb\nc\td\n"
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write([]byte(text))
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write([]byte(text))
	zw.Close()
	dir := t.TempDir()
	tests := []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"plain.tsv", []byte(text), nil},
		{"x.tsv.gz", gz.Bytes(), nil},
		{"x.tsv.zst", zs.Bytes(), nil},
		{"gz-no-ext", gz.Bytes(), nil},
		{"zst-no-ext", zs.Bytes(), nil},
		{"plain.gz", []byte(text), ErrNotCompressed},
		{"gz.zst", gz.Bytes(), ErrNotCompressed},
		{"empty", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			rc, err := Open(p, nil)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tc.name) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			want := text
			if tc.data == nil {
				want = ""
			}
			if string(got) != want {
				t.Errorf("read %q, want %q", got, want)
			}
			if err := rc.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("stdin sniffed", func(t *testing.T) {
		rc, err := Open("-", bytes.NewReader(gz.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := io.ReadAll(rc); string(got) != text {
			t.Errorf("read %q", got)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := Open(filepath.Join(dir, "nope"), nil); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("truncated gzip names the file", func(t *testing.T) {
		p := filepath.Join(dir, "cut.gz")
		os.WriteFile(p, gz.Bytes()[:gz.Len()-6], 0o644)
		rc, err := Open(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(rc); err == nil || !strings.Contains(err.Error(), "cut.gz") {
			t.Errorf("err = %v, want a read error naming cut.gz", err)
		}
	})
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		head []byte
		want Compression
	}{
		{[]byte{0x1f, 0x8b, 0x08, 0}, Gzip},
		{[]byte{0x1f, 0x8b, 0x07}, None},
		{[]byte{0x28, 0xb5, 0x2f, 0xfd}, Zstd},
		{[]byte("key\t"), None},
		{nil, None},
	} {
		if got := Sniff(tc.head); got != tc.want {
			t.Errorf("Sniff(%x) = %v, want %v", tc.head, got, tc.want)
		}
	}
}
