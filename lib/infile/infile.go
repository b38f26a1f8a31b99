// Package infile owns opening one input stream by name: a path, `-` for
// standard input, or a named pipe, transparently decompressed when it is
// gzip or zstd. Compression is chosen by the file name's extension (.gz,
// .zst) and, for names without one (stdin, pipes, plain names), by the
// stream's magic bytes.
package infile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression of an input.
type Compression int

const (
	None Compression = iota
	Gzip
	Zstd
)

func (c Compression) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	}
	return "none"
}

// Magic bytes. The gzip magic includes the method byte (8 = deflate), so a
// plain listing is mistaken for gzip only if its first key starts with the
// bytes 1f 8b 08 (zstd: 28 b5 2f fd), which the documentation mentions.
var (
	gzipMagic = []byte{0x1f, 0x8b, 0x08}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// ErrNotCompressed means a name promises a compression format that the
// stream's first bytes do not have.
var ErrNotCompressed = errors.New("content does not match the file extension")

// zstdMaxWindow bounds the decoder's window (and so its memory). The zstd
// CLI uses at most 8 MiB below level 20 and 128 MiB for --long/--ultra.
const zstdMaxWindow = 128 << 20

// ByName returns the compression a file name's extension promises.
func ByName(name string) Compression {
	switch {
	case strings.HasSuffix(name, ".gz"):
		return Gzip
	case strings.HasSuffix(name, ".zst"):
		return Zstd
	}
	return None
}

// Sniff returns the compression the first bytes announce.
func Sniff(head []byte) Compression {
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return Gzip
	case bytes.HasPrefix(head, zstdMagic):
		return Zstd
	}
	return None
}

// Open opens name for reading: "-" is stdin (which Close leaves open),
// anything else a path (a regular file or a named pipe). The returned
// reader yields decompressed bytes.
func Open(name string, stdin io.Reader) (io.ReadCloser, error) {
	if name == "-" {
		if stdin == nil {
			return nil, errors.New("open -: no standard input")
		}
		return Wrap(name, io.NopCloser(stdin))
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err // *PathError names the file
	}
	rc, err := Wrap(name, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return rc, nil
}

// Wrap decompresses rc if its name or first bytes say so. Closing the
// result closes rc.
func Wrap(name string, rc io.ReadCloser) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(rc, 64<<10)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	c := Sniff(head)
	if want := ByName(name); want != None && c != want {
		return nil, fmt.Errorf("open %s: %w (want %s)", name, ErrNotCompressed, want)
	}
	switch c {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("open %s: gzip: %w", name, err)
		}
		return &stack{Reader: zr, name: name, closers: []func() error{zr.Close, rc.Close}}, nil
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, fmt.Errorf("open %s: zstd: %w", name, err)
		}
		return &stack{Reader: zr, name: name, closers: []func() error{func() error { zr.Close(); return nil }, rc.Close}}, nil
	}
	return &stack{Reader: br, name: name, closers: []func() error{rc.Close}}, nil
}

// stack is a reader with the closers of the layers beneath it. Read errors
// from a decompressor name the input, so a truncated .gz says which file.
type stack struct {
	io.Reader
	name    string
	closers []func() error
}

func (s *stack) Read(p []byte) (int, error) {
	n, err := s.Reader.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("read %s: %w", s.name, err)
	}
	return n, err
}

func (s *stack) Close() error {
	var first error
	for _, c := range s.closers {
		if err := c(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
